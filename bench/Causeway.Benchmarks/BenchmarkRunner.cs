using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Causeway.Security;
using Causeway.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.Benchmarks;

/// <summary>Runs the scenarios and prints one line of ratios per scenario.</summary>
internal static class BenchmarkRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 10);
        var concurrencies = args.Contains("--concurrency") ? [Option(args, "--concurrency", 16)] : new[] { 1, 16 };
        var scenario = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal) && !int.TryParse(a, out _)) ?? "environment-get";
        if (scenario != "environment-get")
        {
            await Console.Error.WriteLineAsync($"unknown scenario '{scenario}'. Scenarios: environment-get");
            return 2;
        }

        foreach (var concurrency in concurrencies)
        {
            await EnvironmentGetAsync(concurrency, TimeSpan.FromSeconds(seconds));
        }

        return 0;
    }

    /// <summary>
    /// <c>GET /api/v1/environments/{id}</c> through the whole server (TLS, bearer-token check, tenant filter, role check,
    /// platform database) against the floor: a bare Kestrel endpoint in the same process, same TLS, answering the same
    /// JSON from memory.
    /// </summary>
    private static async Task EnvironmentGetAsync(int concurrency, TimeSpan duration)
    {
        var folder = Directory.CreateTempSubdirectory("causeway-bench-");
        try
        {
            var app = await CausewayServer.BuildAsync(["--data-dir", folder.FullName, "--port", "0"],
                b =>
                {
                    b.Logging.SetMinimumLevel(LogLevel.Warning);
                    b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Server:RelayPort"] = "0" });
                });
            await app.StartAsync();
            var token = File.ReadAllText(Path.Combine(folder.FullName, "admin-token")).Trim();
            var trust = CertificateTrust.FromFile(Path.Combine(folder.FullName, "certificate.pem"));
            using var client = new HttpClient(trust.CreateHandler()) { BaseAddress = new Uri(CausewayServer.ReadyUrl(app)) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var created = await client.PostAsJsonAsync("/api/v1/environments", new { name = "bench", geography = "europe", type = "production" });
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            var path = $"/api/v1/environments/{id}";
            var body = await client.GetByteArrayAsync(path);

            var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(folder.FullName, "certificate.pfx"), null);
            await using var floor = await StartFloorAsync(certificate, path, body);
            using var floorClient = new HttpClient(trust.CreateHandler()) { BaseAddress = new Uri(floor.Urls.First().Replace("127.0.0.1", "localhost", StringComparison.Ordinal)) };
            floorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

            async Task<bool> Call(HttpClient c, CancellationToken ct)
            {
                using var response = await c.GetAsync(path, ct);
                await response.Content.CopyToAsync(Stream.Null, ct);
                return response.StatusCode == HttpStatusCode.OK;
            }

            var warmUp = TimeSpan.FromSeconds(2);
            var baseline = await LoadGenerator.RunAsync("floor   ", ct => Call(floorClient, ct), concurrency, duration, warmUp);
            var causeway = await LoadGenerator.RunAsync("causeway", ct => Call(client, ct), concurrency, duration, warmUp);
            Console.WriteLine($"environment-get c={concurrency}");
            Console.WriteLine($"  {baseline}");
            Console.WriteLine($"  {causeway}");
            Console.WriteLine($"  ratio: throughput {causeway.Throughput / baseline.Throughput:N2}x of floor, p50 {causeway.P50Ms / baseline.P50Ms:N2}x, p99 {causeway.P99Ms / baseline.P99Ms:N2}x");
            await app.StopAsync();
            await app.DisposeAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }

    private static async Task<WebApplication> StartFloorAsync(X509Certificate2 certificate, string path, byte[] body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate, h => h.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13)));
        var app = builder.Build();
        app.MapGet(path, () => Results.Bytes(body, "application/json"));
        await app.StartAsync();
        return app;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}
