using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Benchmarks;
using Causeway.Environments;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Causeway.Data.Benchmarks;

/// <summary>
/// The Data API benchmarks: translation, end to end against a hand-written ADO.NET endpoint (the floor), and memory
/// while streaming a large table. Everything runs in this process: the server, the floor, the clients and, for
/// PostgreSQL, a private server started with initdb/pg_ctl.
/// </summary>
internal static class DataBenchmark
{
    private const string Environment = "bench";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 5);
        var rows = Option(args, "--rows", 100_000);
        var streamRows = Option(args, "--stream-rows", 1_000_000);
        var providers = (args.SkipWhile(a => a != "--providers").Skip(1).FirstOrDefault() ?? "sqlite,postgresql").Split(',');
        var streamProviders = (args.SkipWhile(a => a != "--stream-providers").Skip(1).FirstOrDefault() ?? "sqlite").Split(',');
        var skipTranslation = args.Contains("--skip-translation");
        var output = Console.Out;
        output.WriteLine($"load before: {await UptimeAsync()}");
        output.WriteLine($"{System.Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        if (args.Contains("--profile"))
        {
            TranslationBenchmark.Profile(output);
        }

        if (!skipTranslation)
        {
            TranslationBenchmark.Run(output);
        }

        if (args.Contains("--translation-only"))
        {
            return 0;
        }

        PostgresServer? postgres = null;
        try
        {
            foreach (var provider in providers)
            {
                var pg = provider == "postgresql";
                if (pg && postgres is null)
                {
                    postgres = new PostgresServer();
                    await postgres.InitializeAsync();
                }

                await using var bench = await Bench.StartAsync(pg ? postgres : null);
                await RunEndToEndAsync(bench, rows, TimeSpan.FromSeconds(seconds), output);
                if (streamProviders.Contains(provider))
                {
                    await RunStreamingAsync(bench, streamRows, output);
                }
            }
        }
        finally
        {
            if (postgres is not null)
            {
                await postgres.DisposeAsync();
            }
        }

        output.WriteLine($"load after: {await UptimeAsync()}");
        return 0;
    }

    private static async Task RunEndToEndAsync(Bench bench, int rows, TimeSpan duration, TextWriter output)
    {
        var watch = Stopwatch.StartNew();
        var keys = await bench.LoadAsync("product", rows, createIndex: true);
        output.WriteLine($"{bench.Name}: loaded {rows:N0} rows into product in {watch.Elapsed.TotalSeconds:N1} s");

        using var server = bench.ServerClient();
        using var floor = bench.FloorClient();
        const string Api = "/environments/bench/api/data/v9.2/";
        string ByKeyServer(Guid k) => $"{Api}products({k})?$select=name,price";
        string ByKeyFloor(Guid k) => $"/floor/products/{k}";
        static (decimal Low, decimal High) Range(int i) => (i * 9m, (i * 9m) + 10m);
        string PageServer(int i) => $"{Api}products?$select=name,price&$filter={Uri.EscapeDataString($"price ge {Range(i).Low} and price lt {Range(i).High}")}&$orderby=price&$top=50";
        string PageFloor(int i) => $"/floor/products?low={Range(i).Low}&high={Range(i).High}";

        // Same rows, same JSON values: checked once before timing.
        await SameAsync(server, floor, ByKeyServer(keys[7]), ByKeyFloor(keys[7]), output);
        await SameAsync(server, floor, PageServer(42), PageFloor(42), output);
        var plan = await bench.PlanAsync(PageServer(42));
        output.WriteLine($"  engine sql: {plan}");
        output.WriteLine($"  floor sql:  {bench.FloorPageSql}");

        foreach (var line in await bench.BreakdownAsync(keys[11], 1000))
        {
            output.WriteLine(line);
        }

        var scenarios = new (string Name, Func<HttpClient, Task<bool>> Server, Func<HttpClient, Task<bool>> Floor)[]
        {
            ("GET by key", c => GetAsync(c, ByKeyServer(keys[Random.Shared.Next(keys.Length)])), c => GetAsync(c, ByKeyFloor(keys[Random.Shared.Next(keys.Length)]))),
            ("filtered page of 50", c => GetAsync(c, PageServer(Random.Shared.Next(100))), c => GetAsync(c, PageFloor(Random.Shared.Next(100)))),
        };
        foreach (var (name, serverCall, floorCall) in scenarios)
        {
            foreach (var concurrency in new[] { 1, 16 })
            {
                var warm = TimeSpan.FromSeconds(1);
                var f = await LoadGenerator.RunAsync("floor ", _ => floorCall(floor), concurrency, duration, warm);
                var s = await LoadGenerator.RunAsync("server", _ => serverCall(server), concurrency, duration, warm);
                var ratio = s.Throughput / f.Throughput;
                var p99 = s.P99Ms / f.P99Ms;
                output.WriteLine($"e2e {bench.Name,-10} {name,-20} c={concurrency,-2}  throughput ratio {ratio:N2}x ({(ratio >= 0.6 ? "met" : "MISSED")} >=0.6)  p99 ratio {p99:N2}x ({(p99 <= 2 ? "met" : "MISSED")} <=2)");
                output.WriteLine($"    {f}");
                output.WriteLine($"    {s}");
            }
        }
    }

    private static async Task RunStreamingAsync(Bench bench, int rows, TextWriter output)
    {
        var watch = Stopwatch.StartNew();
        await bench.LoadAsync("item", rows, createIndex: false);
        output.WriteLine($"{bench.Name}: loaded {rows:N0} rows into item in {watch.Elapsed.TotalSeconds:N1} s");
        using var server = bench.ServerClient();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using (var before = Process.GetCurrentProcess())
        {
            output.WriteLine($"stream {bench.Name}: before: working set {Mb(before.WorkingSet64)}, peak working set so far {Mb(before.PeakWorkingSet64)}, managed heap {Mb(GC.GetTotalMemory(false))}");
        }

        long maxWorkingSet = 0;
        long maxManaged = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using (var p = Process.GetCurrentProcess())
                {
                    maxWorkingSet = Math.Max(maxWorkingSet, p.WorkingSet64);
                }

                maxManaged = Math.Max(maxManaged, GC.GetTotalMemory(false));
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        long count = 0;
        var pages = 0;
        long bytes = 0;
        watch.Restart();
        string? url = "/environments/bench/api/data/v9.2/items?$select=name,price";
        while (url is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Prefer", "odata.maxpagesize=5000");
            using var response = await server.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var counting = new CountingStream(body);
            using var page = await JsonDocument.ParseAsync(counting);
            count += page.RootElement.GetProperty("value").GetArrayLength();
            bytes += counting.Count;
            pages++;
            url = page.RootElement.TryGetProperty("@odata.nextLink", out var next) ? next.GetString() : null;
        }

        var elapsed = watch.Elapsed;
        await stop.CancelAsync();
        await sampler;
        using var after = Process.GetCurrentProcess();
        output.WriteLine($"stream {bench.Name}: {count:N0} rows in {pages} pages of 5000, {Mb(bytes)} of JSON, {elapsed.TotalSeconds:N1} s = {count / elapsed.TotalSeconds:N0} rows/s");
        output.WriteLine($"stream {bench.Name}: during: max sampled working set {Mb(maxWorkingSet)}, peak working set {Mb(after.PeakWorkingSet64)}, max sampled managed heap {Mb(maxManaged)}; after: working set {Mb(after.WorkingSet64)}");
        if (count != rows)
        {
            output.WriteLine($"stream {bench.Name}: EXPECTED {rows:N0} rows");
        }
    }

    private static async Task<bool> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }

        await response.Content.ReadAsByteArrayAsync();
        return true;
    }

    private static async Task SameAsync(HttpClient server, HttpClient floor, string serverUrl, string floorUrl, TextWriter output)
    {
        var a = await server.GetFromJsonAsync<JsonElement>(serverUrl);
        var b = await floor.GetFromJsonAsync<JsonElement>(floorUrl);
        static string Rows(JsonElement e) => string.Join(";", (e.TryGetProperty("value", out var v) ? v.EnumerateArray().ToArray() : [e])
            .Select(r => $"{r.GetProperty("productid").GetString()}|{r.GetProperty("name").GetString()}|{r.GetProperty("price").GetDecimal()}|{r.GetProperty("@odata.etag").GetString()}"));
        var same = Rows(a) == Rows(b);
        output.WriteLine($"  same rows from server and floor ({floorUrl}): {(same ? "yes" : "NO")}");
        if (!same)
        {
            output.WriteLine($"    server: {a}");
            output.WriteLine($"    floor:  {b}");
        }
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):N1} MB";

    private static int Option(string[] args, string name, int fallback)
    {
        var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }

    private static async Task<string> UptimeAsync()
    {
        try
        {
            return (await File.ReadAllTextAsync("/proc/loadavg")).Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>A stream that counts the bytes read through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Count += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Count += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
