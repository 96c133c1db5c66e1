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

    public SocketsHttpHandler CreateHandler() => Loopback.PinnedHandler(_certificate.GetCertHashString());

    public static async Task<BareProxy> StartAsync(string? backendUrl)
    {
        var certificate = CertificateFactory.CreateSelfSigned("localhost");
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseCookies = false });
        var backend = backendUrl?.TrimEnd('/');
        var (app, url) = await Loopback.StartAsync(l => l.UseHttps(certificate), app => app.Run(async context =>
        {
            if (backend is null)
            {
                await Loopback.WriteOkAsync(context);
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
        }));
        return new BareProxy(app, certificate, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}
