using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Benchmarks;
using Causeway.Bus;
using Causeway.Data;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Causeway.Gateway.Benchmarks;

/// <summary>
/// The gateway benchmarks. A private PostgreSQL (initdb/pg_ctl), the real server in this process, and the agent as a
/// real <c>causeway-gateway</c> process registered and run with its own command line. The same OData query goes
/// client -> server (HTTPS) -> bus (WebSocket, or RabbitMQ with a private node) -> agent -> PostgreSQL and back; the floor runs the SQL the engine
/// generates for that query directly with Npgsql from this process and reads every value. Then 1,000,000 rows are
/// streamed through the gateway, page by page, with both processes' memory sampled.
/// </summary>
internal static class GatewayBenchmark
{
    private const string Database = "gwbench";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 5);
        var rows = Option(args, "--rows", 100_000);
        var streamRows = Option(args, "--stream-rows", 1_000_000);
        var order = (args.SkipWhile(a => a != "--scenarios").Skip(1).FirstOrDefault() ?? "key,page").Split(',');
        if (order.Any(o => o is not ("key" or "page")))
        {
            Console.Error.WriteLine("--scenarios takes a comma-separated order of 'key' and 'page', e.g. page,key.");
            return 2;
        }

        var transport = args.SkipWhile(a => a != "--transport").Skip(1).FirstOrDefault() ?? "websocket";
        if (transport is not ("websocket" or "rabbitmq"))
        {
            Console.Error.WriteLine($"--transport '{transport}' is unknown: use websocket or rabbitmq.");
            return 2;
        }

        var output = Console.Out;
        output.WriteLine($"load before: {Load()}");
        output.WriteLine($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; transport: {transport}");

        var work = Directory.CreateTempSubdirectory("causeway-gwbench");
        var postgres = new PostgresServer();
        var broker = transport == "rabbitmq" ? new RabbitMqServer() : null;
        var ok = true;
        try
        {
            await postgres.InitializeAsync();
            if (broker is not null)
            {
                await broker.InitializeAsync();
                output.WriteLine($"RabbitMQ: a private node on 127.0.0.1:{broker.Port}");
            }

            var watch = Stopwatch.StartNew();
            var floorConnection = await LoadAsync(postgres, rows, streamRows);
            output.WriteLine($"PostgreSQL: {rows:N0} rows in product, {streamRows:N0} rows in item, loaded in {watch.Elapsed.TotalSeconds:N1} s");

            var data = Path.Combine(work.FullName, "server");
            var settings = new Dictionary<string, string?> { ["Server:RelayPort"] = "0", ["Logging:LogLevel:Default"] = "Warning" };
            if (broker is not null)
            {
                settings["Gateway:Bus"] = "rabbitmq";
                settings["Gateway:RabbitMq:Uri"] = broker.AdminUri.ToString();
            }

            var server = await CausewayServer.BuildAsync(["--data-dir", data, "--port", "0"], b => b.Configuration.AddInMemoryCollection(settings));
            await server.StartAsync();
            await using var _ = server;
            var baseAddress = new Uri(CausewayServer.ReadyUrl(server));
            var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"))).Trim();
            var certificate = Path.Combine(data, "certificate.pem");
            var trust = CertificateTrust.FromFile(certificate);
            using var client = new HttpClient(trust.CreateHandler()) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

            var agentDir = Path.Combine(work.FullName, "agent");
            var (clusterId, memberId) = await AgentProcess.RegisterAsync(baseAddress, token, certificate, agentDir);
            var agentEnvironment = new Dictionary<string, string>();
            if (broker is not null)
            {
                // The cluster's own broker user, as an operator would create it (docs/gateway.md).
                var (configure, write, read) = GatewayQueues.MemberPermissions(clusterId);
                var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
                await broker.AddUserAsync(GatewayQueues.MemberUser(clusterId), password, configure, write, read);
                agentEnvironment["CAUSEWAY_GATEWAY_RABBITMQ_URI"] = broker.UriFor(GatewayQueues.MemberUser(clusterId), password).ToString();
            }

            await using var agent = AgentProcess.Run(agentDir, clusterId, memberId, agentEnvironment);
            await agent.WaitOnlineAsync(client, TimeSpan.FromSeconds(60));
            if (broker is not null)
            {
                await agent.WaitForOutputAsync("Consuming the queue", TimeSpan.FromSeconds(60));
            }
            var dataApi = await BindAsync(client, agent.ClusterId, postgres.Port);
            output.WriteLine($"agent: causeway-gateway process {agent.ProcessId}, cluster {agent.ClusterId}, online; Data API {new Uri(dataApi).AbsolutePath}");

            await using var floor = await Floor.StartAsync(floorConnection);
            if (Option(args, "--hold", 0) is > 0 and var hold)
            {
                // For a profiler: one phase (gateway, by key, 32 callers) held long enough to attach and collect a trace.
                await HoldAsync(client, dataApi, rows, agent.ProcessId, TimeSpan.FromSeconds(hold), output);
                return 0;
            }

            ok &= await RunEndToEndAsync(client, dataApi, floor, rows, order, TimeSpan.FromSeconds(Option(args, "--agent-warm-up", 5)), TimeSpan.FromSeconds(seconds), Option(args, "--rounds", 3), output);
            ok &= await RunStreamingAsync(client, dataApi, agent, streamRows, output);
        }
        finally
        {
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }

            await postgres.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }

        output.WriteLine($"load after: {Load()}");
        return ok ? 0 : 1;
    }

    private static async Task<bool> RunEndToEndAsync(HttpClient client, string dataApi, Floor floor, int rows, string[] order, TimeSpan agentWarmUp, TimeSpan duration, int rounds, TextWriter output)
    {
        static (decimal Low, decimal High) Range(int i) => (i * 9m, (i * 9m) + 10m);
        static Dictionary<string, string> PageOptions(int i) => new()
        {
            ["$select"] = "name,price",
            ["$filter"] = string.Create(CultureInfo.InvariantCulture, $"price ge {Range(i).Low} and price lt {Range(i).High}"),
            ["$orderby"] = "price",
            ["$top"] = "50",
        };
        static Dictionary<string, string> KeyOptions() => new() { ["$select"] = "name,price" };
        static string Url(string dataApi, string resource, Dictionary<string, string> options) =>
            $"{dataApi}{resource}?{string.Join('&', options.Select(o => $"{o.Key}={Uri.EscapeDataString(o.Value)}"))}";

        // Every URL and its plan made before timing, so that the floor pays nothing for translation.
        var pages = Enumerable.Range(0, 100).Select(i => (Url: Url(dataApi, "product", PageOptions(i)), Plan: floor.Plan("product", null, PageOptions(i)))).ToArray();
        var keys = Enumerable.Range(0, 1000).Select(i => 1 + (int)((long)i * 7919 % rows)).Select(k =>
            (Url: Url(dataApi, $"product({k})", KeyOptions()), Plan: floor.Plan("product", k.ToString(CultureInfo.InvariantCulture), KeyOptions()))).ToArray();
        output.WriteLine($"  engine sql (page): {pages[42].Plan.Sql}");
        output.WriteLine($"  engine sql (key):  {keys[0].Plan.Sql}");

        // Same rows both ways: checked once before timing.
        var (pageRows, pageCells) = await floor.RunAsync(pages[42].Plan);
        var viaGateway = await client.GetFromJsonAsync<JsonElement>(pages[42].Url);
        var gatewayRows = viaGateway.GetProperty("value").GetArrayLength();
        output.WriteLine($"  same row count through the gateway and directly (page 42): {(gatewayRows == pageRows && pageRows == 50 ? "yes" : "NO")} ({gatewayRows} / {pageRows} rows, {pageCells} values read by the floor)");

        var ok = gatewayRows == pageRows;
        foreach (var line in await BreakdownAsync(floor, keys[0].Plan, 200))
        {
            output.WriteLine(line);
        }

        var scenarios = new (string Name, Func<Task<bool>> Gateway, Func<Task<bool>> Floor)[]
        {
            ("GET by key", () => GetAsync(client, keys[Random.Shared.Next(keys.Length)].Url), async () => (await floor.RunAsync(keys[Random.Shared.Next(keys.Length)].Plan)).Rows == 1),
            ("filtered page of 50", () => GetAsync(client, pages[Random.Shared.Next(pages.Length)].Url), async () => (await floor.RunAsync(pages[Random.Shared.Next(pages.Length)].Plan)).Rows > 0),
        };
        // A freshly started agent answers slowly for its first seconds (tiered JIT, pools filling); without this the
        // scenario measured first looked twice as slow as the same scenario measured second.
        foreach (var (name, gatewayCall, _) in scenarios)
        {
            var warm = await LoadGenerator.RunAsync("gateway", _ => gatewayCall(), 4, agentWarmUp, TimeSpan.Zero);
            output.WriteLine($"  warm-up of the agent, {name}, 4 callers, {agentWarmUp.TotalSeconds:N0} s (not a result): {warm}");
        }

        foreach (var (name, gatewayCall, floorCall) in order.Select(o => scenarios[o == "page" ? 1 : 0]))
        {
            foreach (var concurrency in new[] { 1, 32 })
            {
                output.WriteLine($"  load: {Load()}");
                var warm = TimeSpan.FromSeconds(1);

                // The floor and the gateway alternate, round after round, so that a change in the machine's speed touches
                // both alike; each round's ratio compares windows seconds apart, and the medians are reported.
                var runs = new List<(LoadResult Floor, LoadResult Gateway)>();
                for (var round = 0; round < rounds; round++)
                {
                    var fr = await LoadGenerator.RunAsync("floor  ", _ => floorCall(), concurrency, duration, warm);
                    var gr = await LoadGenerator.RunAsync("gateway", _ => gatewayCall(), concurrency, duration, warm);
                    runs.Add((fr, gr));
                }

                var addedP50 = Statistics.Median(runs.Select(r => r.Gateway.P50Ms - r.Floor.P50Ms));
                var addedP99 = Statistics.Median(runs.Select(r => r.Gateway.P99Ms - r.Floor.P99Ms));
                var ratio = Statistics.Median(runs.Select(r => r.Gateway.Throughput / r.Floor.Throughput));
                var each = string.Join(", ", runs.Select(r => (r.Gateway.Throughput / r.Floor.Throughput).ToString("0.00", CultureInfo.InvariantCulture)));
                var target = concurrency == 1
                    ? $"added p50 {addedP50:N3} ms ({(addedP50 < 1 ? "met" : "MISSED")} <1 ms)  added p99 {addedP99:N3} ms  throughput ratio {ratio:N2}x"
                    : $"throughput ratio {ratio:N2}x ({(ratio >= 0.5 ? "met" : "MISSED")} >=0.5x; rounds {each})  added p50 {addedP50:N3} ms  added p99 {addedP99:N3} ms";
                output.WriteLine($"e2e {name,-20} c={concurrency,-2}  {target}  (medians of {rounds} rounds)");
                foreach (var (f, g) in runs)
                {
                    output.WriteLine($"    {f}");
                    output.WriteLine($"    {g}");
                }

                ok &= runs.All(r => r.Floor.Errors + r.Gateway.Errors == 0);
            }
        }

        return ok;
    }

    /// <summary>Runs the gateway by key at 32 callers for <paramref name="duration"/>, after 5 s of warm-up, for a profiler to attach.</summary>
    private static async Task HoldAsync(HttpClient client, string dataApi, int rows, int agentProcessId, TimeSpan duration, TextWriter output)
    {
        var keys = Enumerable.Range(0, 1000).Select(i => $"{dataApi}product({1 + (int)((long)i * 7919 % rows)})?$select=name,price").ToArray();
        await LoadGenerator.RunAsync("gateway", _ => GetAsync(client, keys[Random.Shared.Next(keys.Length)]), 4, TimeSpan.FromSeconds(5), TimeSpan.Zero);
        output.WriteLine($"hold: gateway by key at 32 callers for {duration.TotalSeconds:N0} s; benchmark process {Environment.ProcessId}, agent process {agentProcessId}; load {Load()}");
        var result = await LoadGenerator.RunAsync("gateway", _ => GetAsync(client, keys[Random.Shared.Next(keys.Length)]), 32, duration, TimeSpan.Zero);
        output.WriteLine($"hold: {result}; load {Load()}");
    }

    private static async Task<bool> RunStreamingAsync(HttpClient client, string dataApi, AgentProcess agent, int rows, TextWriter output)
    {
        output.WriteLine($"  load: {Load()}");
        var (serverBefore, heapBefore) = Measure();
        var agentBefore = ProcStatus(agent.ProcessId, "VmRSS");
        output.WriteLine($"stream: before: server (this process) VmRSS {Mb(serverBefore)}, managed heap {Mb(heapBefore)}; agent VmRSS {Mb(agentBefore)}, agent VmHWM so far {Mb(ProcStatus(agent.ProcessId, "VmHWM"))}");

        long maxServer = 0, maxHeap = 0, maxAgent = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                maxServer = Math.Max(maxServer, ProcStatus(Environment.ProcessId, "VmRSS"));
                maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
                maxAgent = Math.Max(maxAgent, ProcStatus(agent.ProcessId, "VmRSS"));
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        long count = 0, bytes = 0;
        var pages = 0;
        TimeSpan? firstByte = null;
        var checkpoints = new List<string>();
        var watch = Stopwatch.StartNew();
        string? url = $"{dataApi}item?$select=name,price";
        while (url is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Prefer", "odata.maxpagesize=5000");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                output.WriteLine($"stream: page {pages + 1} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                break;
            }

            await using var body = await response.Content.ReadAsStreamAsync();
            var counting = new CountingStream(body, () => firstByte ??= watch.Elapsed);
            using var page = await JsonDocument.ParseAsync(counting);
            count += page.RootElement.GetProperty("value").GetArrayLength();
            bytes += counting.Count;
            pages++;
            if (pages % 50 == 0)
            {
                checkpoints.Add($"{count / 1000:N0}k rows: server {Mb(ProcStatus(Environment.ProcessId, "VmRSS"))}, agent {Mb(ProcStatus(agent.ProcessId, "VmRSS"))}");
            }

            url = page.RootElement.TryGetProperty("@odata.nextLink", out var next) ? next.GetString() : null;
        }

        var elapsed = watch.Elapsed;
        await stop.CancelAsync();
        await sampler;
        var agentPeak = ProcStatus(agent.ProcessId, "VmHWM");
        var ttfb = firstByte?.TotalMilliseconds ?? double.NaN;
        var flat = maxServer < 200L * 1024 * 1024 && maxAgent < 200L * 1024 * 1024;
        output.WriteLine($"stream: {count:N0} rows in {pages} pages of 5000, {Mb(bytes)} of JSON, {elapsed.TotalSeconds:N1} s = {count / elapsed.TotalSeconds:N0} rows/s; time to first byte {ttfb:N1} ms ({(ttfb < 100 ? "met" : "MISSED")} <100 ms)");
        output.WriteLine($"stream: during: max sampled server (this process) VmRSS {Mb(maxServer)}, max managed heap {Mb(maxHeap)}; max sampled agent VmRSS {Mb(maxAgent)}, agent VmHWM (whole life) {Mb(agentPeak)} ({(flat ? "met" : "MISSED")} <200 MB each)");
        output.WriteLine($"stream: VmRSS along the way: {string.Join("; ", checkpoints)}");
        output.WriteLine("        (the server figure is the whole benchmark process: server, client, floor pool and this sampler)");
        if (count != rows)
        {
            output.WriteLine($"stream: EXPECTED {rows:N0} rows");
        }

        return count == rows && flat;
    }

    /// <summary>
    /// Steps of one request timed alone on one thread: what the agent does for every request before it touches the
    /// database (CPU time of the thread and wall clock, mean of <paramref name="iterations"/>), next to the floor's whole
    /// call (wall clock). On a loaded machine a busy loop gets a small share of a core, so the CPU time is the figure to
    /// quote for the envelope.
    /// </summary>
    private static async Task<IReadOnlyList<string>> BreakdownAsync(Floor floor, QueryPlan byKey, int iterations)
    {
        using var key = GatewayEnvelope.CreateKey();
        var associated = System.Text.Encoding.UTF8.GetBytes($"causeway-gateway-credentials:{Guid.NewGuid():D}");
        var envelope = GatewayEnvelope.Seal(key, """{"username":"postgres","password":"unused"}"""u8, associated);
        for (var i = 0; i < iterations / 10; i++)
        {
            GatewayEnvelope.Open(key, envelope, associated);
        }

        var cpu = ThreadCpuMicroseconds();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            GatewayEnvelope.Open(key, envelope, associated);
        }

        var wall = Stopwatch.GetElapsedTime(started).TotalMicroseconds / iterations;
        cpu = (ThreadCpuMicroseconds() - cpu) / iterations;
        var lines = new List<string> { $"  breakdown agent: open the credential envelope (RSA-{key.KeySize} private key)   {cpu,9:N1} µs CPU  {wall,9:N1} µs wall" };

        // The request message of a by-key query, written by the server and read by the agent on every request.
        var message = new DataRequestMessage(Guid.NewGuid(),
            new DataSourceDescriptor(Guid.NewGuid(), "bench", "postgresql", new DataSourceConnection("127.0.0.1", 5432, Database, null), envelope, DateTimeOffset.UtcNow),
            "query", "product", "4242", new Dictionary<string, string> { ["$select"] = "name,price" }, "https://127.0.0.1:5001/environments/default/gateway/bench/api/data/v9.2/", null);
        var reflection = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
        var reading = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        foreach (var (name, write, read) in new (string, Func<byte[]>, Func<byte[], DataRequestMessage?>)[]
        {
            ("reflection", () => JsonSerializer.SerializeToUtf8Bytes(message, reflection), b => JsonSerializer.Deserialize<DataRequestMessage>(b, reading)),
            ("generated ", () => JsonSerializer.SerializeToUtf8Bytes(message, GatewayJson.Default.DataRequestMessage), b => JsonSerializer.Deserialize(b, GatewayJson.Default.DataRequestMessage)),
        })
        {
            // Two seconds of warm-up, so that both are measured in fully optimized code (the generated code starts unoptimized).
            var bytes = write();
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed < TimeSpan.FromSeconds(2))
            {
                read(write());
            }

            var writeCpu = ThreadCpuMicroseconds();
            for (var i = 0; i < iterations * 10; i++)
            {
                write();
            }

            var readCpu = ThreadCpuMicroseconds();
            for (var i = 0; i < iterations * 10; i++)
            {
                read(bytes);
            }

            var done = ThreadCpuMicroseconds();
            lines.Add($"  breakdown request message JSON ({bytes.Length} bytes), {name}: server write {(readCpu - writeCpu) / (iterations * 10),6:N1} µs CPU, agent read {(done - readCpu) / (iterations * 10),6:N1} µs CPU");
        }

        for (var i = 0; i < iterations / 10; i++)
        {
            await floor.RunAsync(byKey);
        }

        started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            await floor.RunAsync(byKey);
        }

        lines.Add($"  breakdown floor: pooled open + by-key SQL, every value read                      {Stopwatch.GetElapsedTime(started).TotalMicroseconds / iterations,9:N1} µs wall");
        return lines;
    }

    private static double ThreadCpuMicroseconds()
    {
        const int ClockThreadCpuTime = 3;
        return ClockGetTime(ClockThreadCpuTime, out var time) == 0 ? (time.Seconds * 1e6) + (time.Nanoseconds / 1e3) : double.NaN;
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code for the out struct; this is one call per measurement.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);
#pragma warning restore SYSLIB1054

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>Creates the database and both tables with generate_series; returns a pooled connection string for the floor.</summary>
    private static async Task<string> LoadAsync(PostgresServer postgres, int rows, int streamRows)
    {
        var connectionString = await postgres.CreateDatabaseAsync(Database);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            "SELECT setseed(0.42)",
            "CREATE TABLE product (product_id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)",
            $"INSERT INTO product SELECT i, 'Product ' || lpad(i::text, 7, '0'), round((random() * 1000)::numeric, 2) FROM generate_series(1, {rows}) AS i",
            "CREATE INDEX product_price ON product (price, product_id)",
            "CREATE TABLE item (item_id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)",
            $"INSERT INTO item SELECT i, 'Item ' || lpad(i::text, 7, '0'), round((random() * 1000)::numeric, 2) FROM generate_series(1, {streamRows}) AS i",
            "ANALYZE",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
            await command.ExecuteNonQueryAsync();
        }

        // The agent's own connection settings, pooled as Npgsql pools by default.
        return new NpgsqlConnectionStringBuilder(connectionString) { Pooling = true, ApplicationName = "floor" }.ConnectionString;
    }

    /// <summary>A PostgreSQL data source on the cluster, bound to the default environment; returns its Data API URL.</summary>
    private static async Task<string> BindAsync(HttpClient client, Guid clusterId, int port)
    {
        var created = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "bench",
            type = "postgresql",
            connection = new { host = "127.0.0.1", port, database = Database },
            credentials = new { username = "postgres", password = "unused-with-trust-auth" },
        });
        var source = await created.Content.ReadFromJsonAsync<JsonElement>();
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating the data source: {(int)created.StatusCode} {source}");
        }

        var environment = (await client.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray()
            .First(e => e.GetProperty("name").GetString() == "default").GetProperty("id").GetGuid();
        var bound = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources/{source.GetProperty("id").GetGuid()}/bindings", new { environment });
        var binding = await bound.Content.ReadFromJsonAsync<JsonElement>();
        return bound.IsSuccessStatusCode
            ? binding.GetProperty("dataApiUrl").GetString()!
            : throw new InvalidOperationException($"Binding the data source: {(int)bound.StatusCode} {binding}");
    }

    private static async Task<bool> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>This process's resident set and managed heap, after a full blocking collection.</summary>
    private static (long Rss, long Heap) Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        return (ProcStatus(Environment.ProcessId, "VmRSS"), heap);
    }

    /// <summary>A size line of /proc/{pid}/status (VmRSS, VmHWM) in bytes.</summary>
    internal static long ProcStatus(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field}.");
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):N1} MB";

    private static int Option(string[] args, string name, int fallback)
    {
        var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }

    private static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// The floor: the SQL the engine generates, run with Npgsql from this process on a pooled connection opened per call
    /// (as the agent does), reading every value of every row. No HTTP, no TLS, no JSON.
    /// </summary>
    private sealed class Floor : IAsyncDisposable
    {
        private readonly string _connectionString;
        private readonly DataEngine _engine;

        private Floor(string connectionString, DataEngine engine)
        {
            _connectionString = connectionString;
            _engine = engine;
        }

        public static async Task<Floor> StartAsync(string connectionString)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return new Floor(connectionString, new DataEngine(await SchemaReader.ReadAsync(connection, SqlDialect.PostgreSql), SqlDialect.PostgreSql));
        }

        public QueryPlan Plan(string entitySet, string? key, Dictionary<string, string> options) => _engine.ParseQuery(entitySet, key, options);

        public async Task<(int Rows, long Values)> RunAsync(QueryPlan plan)
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = plan.Sql;
            foreach (var p in plan.Parameters)
            {
                command.Parameters.Add(new NpgsqlParameter(p.Name, p.Value));
            }

            await using DbDataReader reader = await command.ExecuteReaderAsync();
            var rows = 0;
            long values = 0;
            while (await reader.ReadAsync())
            {
                rows++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    values += reader.IsDBNull(i) ? 0 : reader.GetValue(i) is null ? 0 : 1;
                }
            }

            return (rows, values);
        }

        public ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A stream that counts the bytes read through it and reports the first one.</summary>
    private sealed class CountingStream(Stream inner, Action firstByte) : Stream
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

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int n)
        {
            if (n > 0 && Count == 0)
            {
                firstByte();
            }

            Count += n;
            return n;
        }
    }
}
