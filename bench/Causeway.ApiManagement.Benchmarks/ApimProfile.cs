using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Causeway.Connectors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>
/// <c>--profile</c>: each step of an /apim call timed alone in a loop inside the server process, one caller, so the
/// steps can be compared with each other and with a whole call (the load's p50 divided by its concurrency is not that).
/// </summary>
internal static class ApimProfile
{
    public static async Task RunAsync(WebApplication server, HttpClient causeway, string apimPath, int iterations)
    {
        var me = await causeway.GetFromJsonAsync<JsonElement>("/api/v1/me");
        var tenant = me.GetProperty("tenantId").GetGuid();
        var segments = apimPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var connectorName = segments[1];
        var connectionId = Guid.Parse(segments[2]);
        var services = server.Services;
        var connections = services.GetRequiredService<ConnectionStore>();
        var connectors = services.GetRequiredService<ConnectorStore>();
        var throttle = services.GetRequiredService<ConnectionThrottle>();
        var runtime = services.GetRequiredService<ApimRuntime>();
        var backend = services.GetRequiredService<BackendClient>();

        var connection = (await connections.FindForCallAsync(tenant, connectionId, default))!;
        var connector = (await connectors.FindAsync(tenant, connectorName, default))!;
        var query = new List<KeyValuePair<string, string>>();
        var headers = new List<KeyValuePair<string, string>> { new("Accept", "*/*"), new("Host", "localhost") };
        var match = OperationMatcher.Match(connector, "GET", "/items", query, headers, false).Match!;
        var secrets = connections.Unseal(connection);
        var frontend = new Uri($"https://localhost/apim/{connector.Name}/{connection.Id}");
        var policy = await runtime.PrepareAsync(connector, connection, secrets, match, query, headers, null, null, frontend, default);

        Console.WriteLine($"Per-step cost in the server process, one caller, {iterations:N0} iterations each (microseconds per call):");
        await TimeAsync("ConnectionStore.FindForCallAsync (remembered)", iterations, async () => await connections.FindForCallAsync(tenant, connectionId, default));
        await TimeAsync("ConnectorStore.FindAsync (cached)", iterations, async () => await connectors.FindAsync(tenant, connectorName, default));
        await TimeAsync("ConnectionThrottle.TryAcquire", iterations, () => { throttle.TryAcquire(connector.Name, connection.Id.ToString()); return Task.CompletedTask; });
        await TimeAsync("OperationMatcher.Match", iterations, () => { OperationMatcher.Match(connector, "GET", "/items", query, headers, false); return Task.CompletedTask; });
        await TimeAsync("ConnectionStore.Unseal", iterations, () => { connections.Unseal(connection); return Task.CompletedTask; });
        await TimeAsync("ConnectionStore.UnsealForCall (opened once per record read)", iterations, () => { connections.UnsealForCall(connection); return Task.CompletedTask; });
        await TimeAsync("ApimRuntime.PrepareAsync (factory, credentials, policies)", iterations,
            async () => await runtime.PrepareAsync(connector, connection, secrets, match, query, headers, null, null, frontend, default));
        await TimeAsync("ApimRequest.ToUri + BackendClient.Resolve", iterations, () => { backend.Resolve(policy.Request.ToUri()); return Task.CompletedTask; });
        await TimeAsync("backend hop: BackendClient.SendAsync + read body", iterations / 4, async () =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, backend.Resolve(policy.Request.ToUri()).Target);
            message.Headers.TryAddWithoutValidation("X-Api-Key", "bench-key");
            message.Headers.TryAddWithoutValidation("X-Tenant", "contoso");
            using var response = await backend.SendAsync(message, default);
            await response.Content.ReadAsByteArrayAsync();
        });
        await TimeAsync("ApimRuntime.SendAsync (retry pipeline, timeout, message) + read body", iterations / 4, async () =>
        {
            var result = await runtime.SendAsync(policy.Request, default, new ApimRuntime.CallOutcome());
            using var response = result.Response!;
            await response.Content.ReadAsByteArrayAsync();
        });
        await TimeAsync("ApimRuntime.SendAsync without the retry pipeline + read body", iterations / 4, async () =>
        {
            var result = await runtime.SendAsync(policy.Request, default, new ApimRuntime.CallOutcome(), retry: false);
            using var response = result.Response!;
            await response.Content.ReadAsByteArrayAsync();
        });
        var user = me.GetProperty("id").GetString()!;
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, user), new Claim(ClaimTypes.Name, "admin"), new Claim("causeway:tenant", tenant.ToString()),
             new Claim("causeway:tenant-admin", "true"), new Claim("causeway:operator", "true")], "Bearer");
        await TimeAsync("ApimRuntime.HandleAsync in process (no TLS, no Kestrel; answer to memory)", iterations / 4, async () =>
        {
            var context = new DefaultHttpContext { User = new ClaimsPrincipal(identity), RequestServices = services };
            context.Request.Method = "GET";
            context.Request.Scheme = "https";
            context.Request.Host = new HostString("localhost");
            context.Request.Path = apimPath;
            context.Request.Headers.Accept = "*/*";
            context.Features.Get<IHttpRequestFeature>()!.RawTarget = apimPath;
            context.Response.Body = new MemoryStream();
            await runtime.HandleAsync(context, connectorName, connectionId);
            if (context.Response.StatusCode != 200)
            {
                throw new InvalidOperationException($"The in-process call answered {context.Response.StatusCode}.");
            }
        });
        await TimeAsync("whole call over HTTPS: GET /apim/... (one caller)", iterations / 4, async () =>
        {
            using var response = await causeway.GetAsync(apimPath);
            await response.Content.ReadAsByteArrayAsync();
        });
        await TimeAsync("whole call over HTTPS: GET /api/v1/me (one caller)", iterations / 4, async () =>
        {
            using var response = await causeway.GetAsync("/api/v1/me");
            await response.Content.ReadAsByteArrayAsync();
        });
    }

    private static async Task TimeAsync(string name, int iterations, Func<Task> step)
    {
        for (var i = 0; i < Math.Max(100, iterations / 10); i++)
        {
            await step();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            await step();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)iterations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-72} {elapsed.TotalMicroseconds / iterations,9:N1} us  {bytes,9:N0} B/call (this thread)"));
    }
}
