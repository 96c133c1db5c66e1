using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement.Tests;

/// <summary>One request as a backend received it.</summary>
public sealed record ReceivedRequest(string Method, string Host, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A plain-HTTP Kestrel server on 127.0.0.1 with a free port that records every request and answers as told.</summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app)
    {
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.TrimEnd('/');
    }

    /// <summary>http://127.0.0.1:port</summary>
    public string BaseUrl { get; }

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>How the next requests are answered (after they are recorded). Default: 200 {"ok":true}.</summary>
    public Func<HttpContext, Task> Respond { get; set; } = Ok;

    public static Task Ok(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("{\"ok\":true}");
    }

    public static async Task<TestBackend> StartAsync(Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        TestBackend? backend = null;
        map?.Invoke(app);
        app.Map("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
            backend!.Received.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Headers.Host.ToString(), target, headers, body.ToArray()));
            await backend.Respond(context);
        });
        await app.StartAsync();
        backend = new TestBackend(app);
        return backend;
    }

    public ReceivedRequest Single()
    {
        Assert.Single(Received);
        Received.TryDequeue(out var r);
        return r!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
