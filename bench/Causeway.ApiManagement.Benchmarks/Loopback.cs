using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>What the benchmark's own servers (the backend, the bare proxy) and its clients of them share.</summary>
internal static class Loopback
{
    private static readonly byte[] Ok = "{\"ok\":true}"u8.ToArray();

    /// <summary>
    /// A bare Kestrel on a free loopback port (no logging, no Server header), over TLS when <paramref name="https"/> is
    /// given, with what <paramref name="map"/> adds; started. Returns it and its base URL.
    /// </summary>
    public static async Task<(WebApplication App, string Url)> StartAsync(Action<ListenOptions>? https, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, l => https?.Invoke(l));
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address.TrimEnd('/'));
    }

    /// <summary>The small answer every path of the benchmark returns: <c>{"ok":true}</c> as JSON.</summary>
    public static Task WriteOkAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = Ok.Length;
        return context.Response.Body.WriteAsync(Ok, context.RequestAborted).AsTask();
    }

    /// <summary>A handler that trusts only the certificate with this thumbprint (a proxy's own self-signed one).</summary>
    public static SocketsHttpHandler PinnedHandler(string thumbprint) => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == thumbprint },
    };
}
