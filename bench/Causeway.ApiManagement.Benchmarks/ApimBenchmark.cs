using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Benchmarks;
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

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>
/// One backend (Kestrel, plain HTTP on loopback) answering a small JSON document, reached three ways by the same
/// closed-loop load: directly; through Causeway's /apim with an API-key connection and one setheader policy (HTTPS);
/// through nginx on loopback as an HTTPS reverse proxy that adds the same two headers.
/// </summary>
internal static class ApimBenchmark
{
    private const string Definition = """
        {
          "swagger": "2.0", "info": { "title": "Bench", "version": "1.0" }, "host": "bench.example.test", "basePath": "/api", "schemes": ["https"],
          "securityDefinitions": { "key": { "type": "apiKey", "in": "header", "name": "X-Api-Key" } },
          "paths": { "/items": { "get": { "operationId": "ListItems", "responses": { "200": { "description": "ok" } } } } }
        }
        """;

    private const string Properties = """
        {
          "properties": {
            "connectionParameters": {
              "api_key": { "type": "securestring", "uiDefinition": { "constraints": { "required": "true" } } },
              "tenant": { "type": "string", "uiDefinition": { "constraints": { "required": "true" } } }
            },
            "publisher": "Contoso",
            "policyTemplateInstances": [
              { "templateId": "setheader", "title": "Tenant", "parameters": { "x-ms-apimTemplateParameter.name": "X-Tenant", "x-ms-apimTemplateParameter.value": "@connectionParameters('tenant')", "x-ms-apimTemplateParameter.existsAction": "override", "x-ms-apimTemplate-policySection": "Request" } }
            ]
          }
        }
        """;

    // Seconds of load before each measured window (--warmup). Under load the JIT needs more than a few seconds to tier the
    // server's code up: after 2 s an /apim call still cost twice the CPU it costs after 20 s.
    private static int _warmupSeconds = 20;

    // --allocations: which types the measured requests allocate (sampled by the runtime; costs a little CPU).
    private static AllocationSampler? _sampler;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.SkipWhile(a => a != "--matching").Skip(1).FirstOrDefault() is { } packages)
        {
            return MatchingBenchmark.Run(packages, Option(args, "--passes", 200));
        }

        var seconds = Option(args, "--seconds", 4);
        var concurrency = Option(args, "--concurrency", 16);
        _warmupSeconds = Option(args, "--warmup", 20);
        _sampler = args.Contains("--allocations") ? new AllocationSampler() : null;
        var output = args.SkipWhile(a => a != "--output").Skip(1).FirstOrDefault();
        var work = Directory.CreateTempSubdirectory("causeway-apim-bench");
        try
        {
            await using var backend = await StartBackendAsync();
            var settings = new Dictionary<string, string?>
            {
                ["ApiManagement:BackendOverrides:bench.example.test"] = backend.Url,
                ["ApiManagement:Throttling:PermitLimit"] = "100000000",
                ["Server:RelayPort"] = "0",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            var server = await CausewayServer.BuildAsync(["--data-dir", Path.Combine(work.FullName, "data"), "--port", "0"], b => b.Configuration.AddInMemoryCollection(settings));
            await server.StartAsync();
            await using var _ = server;
            var baseUrl = CausewayServer.ReadyUrl(server);
            var token = (await File.ReadAllTextAsync(Path.Combine(work.FullName, "data", "admin-token"))).Trim();
            var trust = CertificateTrust.FromFile(Path.Combine(work.FullName, "data", "certificate.pem"));
            using var causeway = new HttpClient(Pooled(trust.CreateHandler())) { BaseAddress = new Uri(baseUrl) };
            causeway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var apimPath = await PrepareConnectionAsync(causeway);
            if (args.Contains("--profile"))
            {
                await ApimProfile.RunAsync(server, causeway, apimPath, Option(args, "--iterations", 20_000));
                return 0;
            }

            using var direct = new HttpClient(Pooled(new SocketsHttpHandler())) { BaseAddress = new Uri(backend.Url) };
            if (args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault() is { } only)
            {
                return await RunOnlyAsync(only, work.FullName, backend, direct, causeway, apimPath, concurrency, seconds);
            }

            using var nginx = await Nginx.StartAsync(work.FullName, backend.Url);
            if (nginx is null)
            {
                Console.WriteLine("nginx was not found (apt-get install -y nginx): skipped.");
            }

            await using var bare = await BareProxy.StartAsync(backend.Url);
            using var viaNginx = nginx is null ? null : new HttpClient(Pooled(nginx.CreateHandler())) { BaseAddress = new Uri(nginx.Url) };
            using var viaBare = new HttpClient(Pooled(bare.CreateHandler())) { BaseAddress = new Uri(bare.Url) };
            var targets = new List<Target>
            {
                new("backend directly (HTTP)", direct, "/api/items", null, false),
                new(ApimName, causeway, apimPath, null, true),
            };
            if (nginx is not null)
            {
                targets.Add(new(NginxName, viaNginx!, "/api/items", nginx.CpuTime, false));
            }

            targets.Add(new("bare .NET proxy: Kestrel + HttpClient, nothing else (HTTPS)", viaBare, "/api/items", null, false));
            targets.Add(new("Causeway GET /api/v1/me, no backend (HTTPS; platform floor)", causeway, "/api/v1/me", null, true));

            // Every target is warmed up first; then the measured windows alternate between them, round after round, so that
            // a change in the machine's speed (other work, a neighbour) touches every target alike and each round's ratios
            // compare windows seconds apart. Medians over the rounds are reported.
            foreach (var t in targets)
            {
                await WarmAsync(t.Client, t.Path, concurrency, t.Jit ? _warmupSeconds : Math.Min(5, _warmupSeconds));
            }

            // Each round also measures the proxies with one caller (--latency-seconds per path): the latency a proxy adds to a
            // call, without the queueing that 16 closed-loop callers on 2 CPUs put into every p50.
            var rounds = Option(args, "--rounds", 5);
            var latencySeconds = Option(args, "--latency-seconds", 2);
            var measured = targets.ToDictionary(t => t.Name, _ => new List<Result>());
            var proxies = targets.Where(t => t.Path != "/api/v1/me").ToList();
            var alone = proxies.ToDictionary(t => t.Name, _ => new List<Result>());
            for (var round = 1; round <= rounds; round++)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Round {round} of {rounds}:"));
                foreach (var t in targets)
                {
                    measured[t.Name].Add(await MeasureAsync(t.Name, t.Client, t.Path, concurrency, seconds, t.OtherCpu));
                }

                foreach (var t in proxies)
                {
                    alone[t.Name].Add(await MeasureAsync(t.Name + ", 1 caller", t.Client, t.Path, 1, latencySeconds, t.OtherCpu));
                }
            }

            if (!backend.SawHeaders)
            {
                Console.Error.WriteLine("The backend never saw X-Tenant and X-Api-Key: the comparison is not fair.");
                return 1;
            }

            var report = Report(targets.Select(t => measured[t.Name]).ToList(), concurrency, seconds, rounds)
                + Environment.NewLine + LatencyReport(proxies.Select(t => alone[t.Name]).ToList(), latencySeconds, rounds);
            Console.WriteLine(report);
            if (output is not null)
            {
                await File.WriteAllTextAsync(output, report);
            }

            var results = measured.Values.SelectMany(r => r).ToList();
            return results.Any(r => r.Errors > 0) ? 1 : 0;
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// One path alone for the given time (after the warm-up), so that a profiler can be attached to this process
    /// (its id is printed first): <c>direct</c>, <c>apim</c>, <c>me</c> or <c>nginx</c>.
    /// </summary>
    private static async Task<int> RunOnlyAsync(string only, string work, Backend backend, HttpClient direct, HttpClient causeway, string apimPath, int concurrency, int seconds)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Process {Environment.ProcessId}: {only} alone, {concurrency} callers, {seconds} s after a {_warmupSeconds} s warm-up."));
        Result result;
        switch (only)
        {
            case "direct":
                result = await LoadAsync("backend directly (HTTP)", direct, "/api/items", concurrency, seconds);
                break;
            case "apim":
                result = await LoadAsync(ApimName, causeway, apimPath, concurrency, seconds);
                break;
            case "me":
                result = await LoadAsync("Causeway GET /api/v1/me (HTTPS)", causeway, "/api/v1/me", concurrency, seconds);
                break;
            case "live":
                result = await LoadAsync("Causeway GET /health/live, no authentication (HTTPS)", causeway, "/health/live", concurrency, seconds);
                break;
            case "hello":
                await using (var bare = await BareProxy.StartAsync(null))
                {
                    using var viaBare = new HttpClient(Pooled(bare.CreateHandler())) { BaseAddress = new Uri(bare.Url) };
                    result = await LoadAsync("bare Kestrel answering itself (HTTPS)", viaBare, "/api/items", concurrency, seconds);
                }

                break;
            case "bare":
                await using (var bare = await BareProxy.StartAsync(backend.Url))
                {
                    using var viaBare = new HttpClient(Pooled(bare.CreateHandler())) { BaseAddress = new Uri(bare.Url) };
                    result = await LoadAsync("bare .NET proxy (HTTPS)", viaBare, "/api/items", concurrency, seconds);
                }

                break;
            case "nginx":
                using (var nginx = await Nginx.StartAsync(work, backend.Url))
                {
                    if (nginx is null)
                    {
                        Console.Error.WriteLine("nginx was not found (apt-get install -y nginx).");
                        return 1;
                    }

                    using var viaNginx = new HttpClient(Pooled(nginx.CreateHandler())) { BaseAddress = new Uri(nginx.Url) };
                    result = await LoadAsync(NginxName, viaNginx, "/api/items", concurrency, seconds, nginx.CpuTime);
                }

                break;
            default:
                Console.Error.WriteLine($"--only takes direct, apim, me, bare or nginx (not '{only}').");
                return 2;
        }

        return result.Errors > 0 ? 1 : 0;
    }

    private static async Task<string> PrepareConnectionAsync(HttpClient client)
    {
        var import = await client.PostAsJsonAsync("/api/v1/connectors", new { apiDefinition = JsonNode.Parse(Definition), apiProperties = JsonNode.Parse(Properties) });
        import.EnsureSuccessStatusCode();
        var name = (await import.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString();
        var environments = await client.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        var environment = environments.EnumerateArray().First().GetProperty("id").GetString();
        var created = await client.PostAsJsonAsync($"/api/v1/environments/{environment}/connections", new { connector = name, parameters = new { api_key = "bench-key", tenant = "contoso" } });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        return $"/apim/{name}/{id}/items";
    }

    private static SocketsHttpHandler Pooled(SocketsHttpHandler handler)
    {
        handler.MaxConnectionsPerServer = 1024;
        handler.PooledConnectionLifetime = Timeout.InfiniteTimeSpan;
        return handler;
    }

    /// <param name="CpuMicroseconds">
    /// CPU time per request of this process (the load, the backend and Causeway) plus nginx's processes for the nginx
    /// path: unlike req/s, it hardly moves with the other work on the machine.
    /// </param>
    /// <param name="AllocatedBytes">Managed bytes allocated per request by this process (all three parties): exact, unlike time.</param>
    private sealed record Result(string Name, long Requests, double Seconds, double P50, double P99, long Errors, double CpuMicroseconds, double AllocatedBytes)
    {
        public double Throughput => Requests / Seconds;
    }

    private static TimeSpan OwnCpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private sealed record Target(string Name, HttpClient Client, string Path, Func<TimeSpan>? OtherCpu, bool Jit);

    private const string ApimName = "Causeway /apim (HTTPS)";

    private const string NginxName = "nginx reverse proxy (HTTPS)";

    private static async Task<Result> LoadAsync(string name, HttpClient client, string path, int concurrency, int seconds, Func<TimeSpan>? otherCpu = null)
    {
        await WarmAsync(client, path, concurrency, _warmupSeconds);
        return await MeasureAsync(name, client, path, concurrency, seconds, otherCpu);
    }

    private static async Task<long> LoopAsync(HttpClient client, string path, CancellationToken stop, List<double>? latencies)
    {
        long errors = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead);
                if (!response.IsSuccessStatusCode)
                {
                    errors++;
                    continue;
                }
            }
            catch (HttpRequestException)
            {
                errors++;
                continue;
            }

            latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return errors;
    }

    private static async Task WarmAsync(HttpClient client, string path, int concurrency, int seconds)
    {
        using var warm = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => LoopAsync(client, path, warm.Token, null)));
    }

    private static async Task<Result> MeasureAsync(string name, HttpClient client, string path, int concurrency, int seconds, Func<TimeSpan>? otherCpu)
    {
        var lists = Enumerable.Range(0, concurrency).Select(_ => new List<double>()).ToArray();
        var cpuBefore = OwnCpuTime() + (otherCpu?.Invoke() ?? TimeSpan.Zero);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        _sampler?.Start();
        var watch = Stopwatch.StartNew();
        long[] errors;
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
        {
            errors = await Task.WhenAll(lists.Select(l => LoopAsync(client, path, stop.Token, l)));
        }

        watch.Stop();
        var cpu = OwnCpuTime() + (otherCpu?.Invoke() ?? TimeSpan.Zero) - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        _sampler?.Stop();
        var all = lists.SelectMany(l => l).Order().ToArray();
        double P(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
        var result = new Result(name, all.Length, watch.Elapsed.TotalSeconds, P(0.5), P(0.99), errors.Sum(),
            all.Length == 0 ? double.NaN : cpu.TotalMicroseconds / all.Length, all.Length == 0 ? double.NaN : (double)allocated / all.Length);
        foreach (var (type, share) in _sampler?.Top(40) ?? [])
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {share,6:P1}  {type}"));
        }

        Console.WriteLine($"{name}: {result.Throughput:N0} req/s, p50 {result.P50:N3} ms, p99 {result.P99:N3} ms, CPU {result.CpuMicroseconds:N0} µs/request, allocated {result.AllocatedBytes:N0} B/request, errors {result.Errors}");
        return result;
    }

    /// <param name="runs">Per target (direct first, /apim second), its measured windows, one per round.</param>
    private static string Report(List<List<Result>> runs, int concurrency, int seconds, int rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Small GET (`{{\"ok\":true}}`), {concurrency} concurrent closed-loop callers; {rounds} rounds, each measuring every path for {seconds} s in turn after a warm-up ({_warmupSeconds} s for Causeway's paths), all on one machine ({Environment.ProcessorCount} logical CPUs shared by the load, the proxies and the backend). Medians over the rounds.");
        sb.AppendLine();
        sb.AppendLine("| Path | req/s | p50 ms | p99 ms | CPU µs/request | allocated B/request | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r[0].Name} | {Statistics.Median(r.Select(x => x.Throughput)):N0} | {Statistics.Median(r.Select(x => x.P50)):N3} | {Statistics.Median(r.Select(x => x.P99)):N3} | {Statistics.Median(r.Select(x => x.CpuMicroseconds)):N0} | {Statistics.Median(r.Select(x => x.AllocatedBytes)):N0} | {r.Sum(x => x.Errors)} |");
        }

        sb.AppendLine();
        var direct = runs[0];
        var apim = runs[1];
        string Each(Func<int, double> ratio) => string.Join(", ", Enumerable.Range(0, apim.Count).Select(i => ratio(i).ToString("0.00", CultureInfo.InvariantCulture)));
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"- Causeway /apim p50 over the direct call: **+{Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => apim[i].P50 - direct[i].P50)):0.00} ms** (median of the rounds' differences).");
        if (runs.FirstOrDefault(r => r[0].Name == NginxName) is { } nginx)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- Causeway /apim vs nginx: **{Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => apim[i].Throughput / nginx[i].Throughput)):0.00}x throughput** (rounds: {Each(i => apim[i].Throughput / nginx[i].Throughput)}), {Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => apim[i].CpuMicroseconds / nginx[i].CpuMicroseconds)):0.00}x CPU per request.");
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- nginx p50 over the direct call: +{Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => nginx[i].P50 - direct[i].P50)):0.00} ms.");
        }

        if (runs.FirstOrDefault(r => r[0].Name.StartsWith("bare", StringComparison.Ordinal)) is { } bare)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- Causeway /apim vs the bare .NET proxy: {Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => apim[i].Throughput / bare[i].Throughput)):0.00}x throughput, {Statistics.Median(Enumerable.Range(0, apim.Count).Select(i => apim[i].CpuMicroseconds / bare[i].CpuMicroseconds)):0.00}x CPU per request.");
        }

        return sb.ToString();
    }

    /// <param name="runs">Per target (direct first, /apim second), its one-caller windows, one per round.</param>
    private static string LatencyReport(List<List<Result>> runs, int seconds, int rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"One caller, {seconds} s per path in each of the {rounds} rounds: the latency each path adds, without queueing. Medians over the rounds.");
        sb.AppendLine();
        sb.AppendLine("| Path | p50 ms | p99 ms | added p50 over direct, ms | CPU µs/request |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        var direct = runs[0];
        double Added(List<Result> r) => Statistics.Median(Enumerable.Range(0, r.Count).Select(i => r[i].P50 - direct[i].P50));
        foreach (var r in runs)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r[0].Name} | {Statistics.Median(r.Select(x => x.P50)):N3} | {Statistics.Median(r.Select(x => x.P99)):N3} | {(ReferenceEquals(r, direct) ? "" : $"+{Added(r):0.000}")} | {Statistics.Median(r.Select(x => x.CpuMicroseconds)):N0} |");
        }

        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Causeway /apim p50 over the direct call, one caller: **+{Added(runs[1]):0.000} ms** (median of the rounds' differences).");
        return sb.ToString();
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }

    private sealed class Backend(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url { get; } = url;

        public bool SawHeaders { get; set; }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<Backend> StartBackendAsync()
    {
        Backend? backend = null;
        var (app, url) = await Loopback.StartAsync(null, app => app.MapGet("/api/items", (HttpContext context) =>
        {
            if (context.Request.Headers["X-Tenant"] == "contoso" && context.Request.Headers["X-Api-Key"] == "bench-key")
            {
                backend!.SawHeaders = true;
            }

            return Loopback.WriteOkAsync(context);
        }));
        backend = new Backend(app, url);
        return backend;
    }

    /// <summary>nginx as a child process with a generated configuration; stopped (by its own process id) on dispose.</summary>
    private sealed class Nginx : IDisposable
    {
        private readonly Process _process;

        private Nginx(Process process, string url, string thumbprint)
        {
            _process = process;
            Url = url;
            Thumbprint = thumbprint;
        }

        public string Url { get; }

        public string Thumbprint { get; }

        /// <summary>CPU time used so far by nginx's master and its workers (from /proc).</summary>
        public TimeSpan CpuTime()
        {
            var ticks = 0L;
            var master = _process.Id.ToString(CultureInfo.InvariantCulture);
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                string stat;
                try
                {
                    stat = File.ReadAllText(Path.Combine(dir, "stat"));
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }

                // pid (comm) state ppid ... utime(14) stime(15): fields after the command's closing parenthesis.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (Path.GetFileName(dir) == master || fields[1] == master)
                {
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }

            // Linux reports these in clock ticks of 1/100 s.
            return TimeSpan.FromMilliseconds(ticks * 10);
        }

        /// <summary>A handler that trusts this nginx's own certificate only.</summary>
        public SocketsHttpHandler CreateHandler() => Loopback.PinnedHandler(Thumbprint);

        public static async Task<Nginx?> StartAsync(string work, string backendUrl)
        {
            var binary = new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists);
            if (binary is null)
            {
                return null;
            }

            var dir = Directory.CreateDirectory(Path.Combine(work, "nginx")).FullName;
            Directory.CreateDirectory(Path.Combine(dir, "logs"));
            using var certificate = CertificateFactory.CreateSelfSigned("localhost");
            await File.WriteAllTextAsync(Path.Combine(dir, "cert.pem"), certificate.ExportCertificatePem());
            var key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()!;
            await File.WriteAllTextAsync(Path.Combine(dir, "key.pem"), key.ExportPkcs8PrivateKeyPem());
            var port = FreePort();
            var backend = new Uri(backendUrl);
            await File.WriteAllTextAsync(Path.Combine(dir, "nginx.conf"), $$"""
                worker_processes 2;
                pid {{dir}}/nginx.pid;
                error_log {{dir}}/logs/error.log warn;
                events { worker_connections 4096; }
                http {
                  access_log off;
                  keepalive_requests 100000000;
                  keepalive_timeout 300s;
                  upstream backend { server {{backend.Authority}}; keepalive 64; keepalive_requests 100000000; }
                  server {
                    listen 127.0.0.1:{{port}} ssl;
                    ssl_certificate {{dir}}/cert.pem;
                    ssl_certificate_key {{dir}}/key.pem;
                    ssl_protocols TLSv1.2 TLSv1.3;
                    location / {
                      proxy_pass http://backend;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_set_header X-Tenant contoso;
                      proxy_set_header X-Api-Key bench-key;
                    }
                  }
                }
                """);
            var process = Process.Start(new ProcessStartInfo(binary, ["-p", dir, "-c", Path.Combine(dir, "nginx.conf"), "-g", "daemon off;"])
            {
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var url = $"https://127.0.0.1:{port}";
            var nginx = new Nginx(process, url, certificate.GetCertHashString());
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                try
                {
                    using var probe = new System.Net.Sockets.TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return nginx;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"nginx exited: {await process.StandardError.ReadToEndAsync()}");
                    }

                    await Task.Delay(50);
                }
            }

            nginx.Dispose();
            throw new TimeoutException("nginx did not listen within 10 s.");
        }

        private static int FreePort()
        {
            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }

            _process.Dispose();
        }
    }
}
