using System.Net;
using System.Security.Cryptography.X509Certificates;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>
/// The least a .NET HTTPS reverse proxy does: Kestrel over TLS, one terminal handler that adds the same two headers and
/// forwards through a pooled <see cref="HttpClient"/>, copying status, content type and body back. No authentication,
/// routing, policies or logging: the floor of any proxy built on Kestrel and HttpClient on this machine.
/// </summary>
internal sealed class BareProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private BareProxy(WebApplication app, X509Certificate2 certificate, string url)
    {
        _app = app;
        _certificate = certificate;
        Url = url;
    }

    public string Url { get; }

    public SocketsHttpHandler CreateHandler()
    {
        var thumbprint = _certificate.GetCertHashString();
        return new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == thumbprint },
        };
    }

    public static async Task<BareProxy> StartAsync(string? backendUrl)
    {
        var certificate = CertificateFactory.CreateSelfSigned("localhost");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate));
        });
        var app = builder.Build();
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseCookies = false });
        var backend = backendUrl?.TrimEnd('/');
        var answer = "{\"ok\":true}"u8.ToArray();
        app.Run(async context =>
        {
            if (backend is null)
            {
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = answer.Length;
                await context.Response.Body.WriteAsync(answer, context.RequestAborted);
                return;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, backend + context.Request.Path + context.Request.QueryString);
            request.Headers.TryAddWithoutValidation("X-Tenant", "contoso");
            request.Headers.TryAddWithoutValidation("X-Api-Key", "bench-key");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type)
            {
                context.Response.ContentType = type.ToString();
            }

            if (response.Content.Headers.ContentLength is { } length)
            {
                context.Response.ContentLength = length;
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            await body.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareProxy(app, certificate, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}
