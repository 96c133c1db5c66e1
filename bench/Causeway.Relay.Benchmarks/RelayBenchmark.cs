using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Causeway.Benchmarks;
using Causeway.Relay.Client;
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

namespace Causeway.Relay.Benchmarks;

/// <summary>
/// The relay benchmarks. The real server runs in this process (its relay on its own TLS port); a listener made with the
/// project's .NET client answers HTTP-mode requests with a small fixed response. The baseline serves the same handler
/// directly from a bare Kestrel with TLS in the same process. The stream is a rendezvous WebSocket through the relay
/// against a bare SslStream over a loopback socket. The 1,000 listeners live in a second process (this program run
/// again) so that the server's memory and the clients' memory are measured apart.
/// </summary>
internal static class RelayBenchmark
{
    private const string Path = "bench";
    private const int Chunk = 64 * 1024;
    private const int ListenersPerHybridConnection = 25;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 5);
        var streamMb = Option(args, "--stream-mb", 256);
        var listenerCount = Option(args, "--listeners", 1000);
        var httpListeners = Option(args, "--http-listeners", 1);
        var output = Console.Out;
        output.WriteLine($"load before: {Load()}");
        output.WriteLine($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

        var work = Directory.CreateTempSubdirectory("causeway-relaybench");
        var failed = false;
        try
        {
            var data = System.IO.Path.Combine(work.FullName, "data");
            var settings = new Dictionary<string, string?> { ["Server:RelayPort"] = "0", ["Logging:LogLevel:Default"] = "Warning" };
            var server = await CausewayServer.BuildAsync(["--data-dir", data, "--port", "0"], b => b.Configuration.AddInMemoryCollection(settings));
            await server.StartAsync();
            await using var _ = server;
            var relayAddress = new Uri(CausewayServer.RelayUrl(server));
            var certificatePath = System.IO.Path.Combine(data, "certificate.pem");
            using var relayCertificate = X509CertificateLoader.LoadCertificateFromFile(certificatePath);
            var options = new RelayClientOptions { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(relayCertificate) };
            var trust = CertificateTrust.FromFile(certificatePath);
            using var admin = new HttpClient(trust.CreateHandler()) { BaseAddress = new Uri(CausewayServer.ReadyUrl(server)) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(System.IO.Path.Combine(data, "admin-token"))).Trim());

            var (keyName, key) = await CreateHybridConnectionAsync(admin, Path);
            await using var listener = new HybridConnectionListener(relayAddress, Path, keyName, key, options)
            {
                RequestHandler = (request, _) => Task.FromResult(FixedHandler.Relayed(request.RequestTarget)),
            };
            await listener.OpenAsync();
            using var relayClient = new HybridConnectionClient(relayAddress, Path, keyName, key, options);

            await using var direct = await DirectServer.StartAsync();
            using var directClient = new HttpClient(direct.CreateHandler()) { BaseAddress = direct.Address };

            // Same status, same bytes both ways: checked once before timing.
            var viaRelay = await relayClient.GetAsync("items/1");
            var viaDirect = await directClient.GetAsync($"/{Path}/items/1");
            var relayBody = await viaRelay.Content.ReadAsByteArrayAsync();
            var directBody = await viaDirect.Content.ReadAsByteArrayAsync();
            var sameBody = relayBody.AsSpan().SequenceEqual(directBody);
            output.WriteLine($"  same answer through the relay and directly: {(viaRelay.StatusCode == HttpStatusCode.OK && viaDirect.StatusCode == HttpStatusCode.OK && sameBody ? "yes" : "NO")} ({FixedHandler.Body.Length} bytes, {viaRelay.Content.Headers.ContentType})");

            // More listeners on the hybrid connection share the HTTP-mode requests (the relay spreads them); they leave
            // before the stream so that its rendezvous reaches the listener that waits for it.
            var extra = new List<HybridConnectionListener>();
            for (var i = 1; i < httpListeners; i++)
            {
                var more = new HybridConnectionListener(relayAddress, Path, keyName, key, options)
                {
                    RequestHandler = (request, _) => Task.FromResult(FixedHandler.Relayed(request.RequestTarget)),
                };
                await more.OpenAsync();
                extra.Add(more);
            }

            output.WriteLine($"  HTTP-mode listeners on '{Path}': {httpListeners}");
            failed |= await RunHttpAsync(relayClient, directClient, TimeSpan.FromSeconds(seconds), output);
            foreach (var more in extra)
            {
                await more.DisposeAsync();
            }

            await RunStreamAsync(listener, relayClient, direct.Certificate, streamMb * 1024L * 1024L, output);
            failed |= !await RunListenersAsync(admin, relayAddress, certificatePath, options, listenerCount, output);
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

        output.WriteLine($"load after: {Load()}");
        return failed ? 1 : 0;
    }

    private static async Task<bool> RunHttpAsync(HybridConnectionClient relay, HttpClient direct, TimeSpan duration, TextWriter output)
    {
        output.WriteLine($"load: {Load()}");
        var errors = false;
        foreach (var concurrency in new[] { 1, 64 })
        {
            var warm = TimeSpan.FromSeconds(1);
            var d = await LoadGenerator.RunAsync("direct HTTPS ", _ => OkAsync(direct.GetAsync($"/{Path}/items/1")), concurrency, duration, warm);
            var r = await LoadGenerator.RunAsync("through relay", _ => OkAsync(relay.GetAsync("items/1")), concurrency, duration, warm);
            var ratio = r.Throughput / d.Throughput;
            output.WriteLine($"http c={concurrency,-2}  added p50 {r.P50Ms - d.P50Ms:N3} ms  throughput ratio {ratio:N2}x  p99 ratio {r.P99Ms / d.P99Ms:N2}x  (issue #7 sets no target: recorded)");
            output.WriteLine($"    {d}");
            output.WriteLine($"    {r}");
            errors |= d.Errors + r.Errors > 0;
        }

        return errors;
    }

    private static async Task RunStreamAsync(HybridConnectionListener listener, HybridConnectionClient relay, X509Certificate2 certificate, long bytes, TextWriter output)
    {
        output.WriteLine($"load: {Load()}");
        var payload = new byte[Chunk];
        Random.Shared.NextBytes(payload);

        // Two back-to-back rounds; each ratio compares neighbours in time.
        for (var round = 1; round <= 2; round++)
        {
            var direct = await DirectStreamAsync(certificate, payload, bytes);
            var relayed = await RelayStreamAsync(listener, relay, payload, bytes);
            var mb = bytes / (1024.0 * 1024.0);
            output.WriteLine($"stream round {round}: {mb:N0} MB in {Chunk / 1024} kB messages  relay {mb / relayed.TotalSeconds:N1} MB/s  direct TCP+TLS {mb / direct.TotalSeconds:N1} MB/s  ratio {direct.TotalSeconds / relayed.TotalSeconds:N2}x  (no target: recorded)");
        }
    }

    /// <summary>Sender -> relay -> listener over a rendezvous WebSocket; timed from the first send to the last byte received.</summary>
    private static async Task<TimeSpan> RelayStreamAsync(HybridConnectionListener listener, HybridConnectionClient client, byte[] payload, long bytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var accept = listener.AcceptConnectionAsync(timeout.Token);
        using var sender = await client.CreateConnectionAsync(cancellationToken: timeout.Token);
        using var receiver = await accept ?? throw new InvalidOperationException("The listener closed before it accepted the stream.");
        var watch = Stopwatch.StartNew();
        var receive = Task.Run(async () =>
        {
            var buffer = new byte[Chunk];
            long total = 0;
            while (total < bytes)
            {
                var result = await receiver.ReceiveAsync(buffer.AsMemory(), timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException($"The stream closed after {total} of {bytes} bytes.");
                }

                total += result.Count;
            }

            return watch.Elapsed;
        });
        for (long sent = 0; sent < bytes; sent += payload.Length)
        {
            await sender.SendAsync(payload, WebSocketMessageType.Binary, true, timeout.Token);
        }

        var elapsed = await receive;
        await sender.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        var drain = new byte[16];
        while (receiver.State == WebSocketState.Open && (await receiver.ReceiveAsync(drain.AsMemory(), timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        await receiver.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        return elapsed;
    }

    /// <summary>The floor: SslStream to SslStream over one loopback socket, the same chunks; timed the same way.</summary>
    private static async Task<TimeSpan> DirectStreamAsync(X509Certificate2 certificate, byte[] payload, long bytes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var acceptTask = listener.AcceptTcpClientAsync(timeout.Token).AsTask();
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, timeout.Token);
            using var server = await acceptTask;
            server.NoDelay = true;
            await using var serverTls = new SslStream(server.GetStream());
            await using var clientTls = new SslStream(client.GetStream());
            await Task.WhenAll(
                serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 }, timeout.Token),
                clientTls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = RelayClientOptions.TrustCertificate(certificate) }, timeout.Token));
            var watch = Stopwatch.StartNew();
            var receive = Task.Run(async () =>
            {
                var buffer = new byte[Chunk];
                long total = 0;
                while (total < bytes)
                {
                    var n = await serverTls.ReadAsync(buffer.AsMemory(), timeout.Token);
                    if (n == 0)
                    {
                        throw new InvalidOperationException($"The stream closed after {total} of {bytes} bytes.");
                    }

                    total += n;
                }

                return watch.Elapsed;
            });
            for (long sent = 0; sent < bytes; sent += payload.Length)
            {
                await clientTls.WriteAsync(payload, timeout.Token);
            }

            return await receive;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>
    /// Opens <paramref name="count"/> listeners from a second process, 25 per hybrid connection, and measures this (the
    /// server's) process before and after: resident set (VmRSS) and managed heap after a full collection. The child
    /// reports its own figures the same way. Every hybrid connection then answers one HTTP-mode request.
    /// </summary>
    private static async Task<bool> RunListenersAsync(HttpClient admin, Uri relayAddress, string certificatePath, RelayClientOptions options, int count, TextWriter output)
    {
        output.WriteLine($"load: {Load()}");
        var plan = new List<ListenerChild.HybridConnectionPlan>();
        for (var i = 0; i * ListenersPerHybridConnection < count; i++)
        {
            var path = $"listeners-{i:D3}";
            var (keyName, key) = await CreateHybridConnectionAsync(admin, path);
            plan.Add(new ListenerChild.HybridConnectionPlan(path, keyName, key, Math.Min(ListenersPerHybridConnection, count - (i * ListenersPerHybridConnection))));
        }

        var (rssBefore, heapBefore) = Measure();
        using var child = ListenerChild.Start();
        await child.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new ListenerChild.ListenerPlan(relayAddress.ToString(), certificatePath, plan), ListenerChild.Web));
        await child.StandardInput.FlushAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        var ready = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (ready is null || !ready.StartsWith("ready ", StringComparison.Ordinal))
        {
            output.WriteLine($"listeners: the child process failed: {ready} {await stderr}");
            return false;
        }

        var report = JsonSerializer.Deserialize<ListenerChild.ChildReport>(ready["ready ".Length..], ListenerChild.Web)!;
        var seen = await WaitForListenersAsync(admin, plan, count, TimeSpan.FromSeconds(60));
        var (rssAfter, heapAfter) = Measure();

        var answered = 0;
        foreach (var hc in plan)
        {
            using var client = new HybridConnectionClient(relayAddress, hc.Path, hc.KeyName, hc.Key, options);
            using var response = await client.GetAsync("ping");
            answered += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        await child.StandardInput.WriteLineAsync("stop");
        child.StandardInput.Close();
        if (!child.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            child.Kill(entireProcessTree: true);
        }

        var ok = seen == count && report.Opened == count && answered == plan.Count;
        output.WriteLine($"listeners: {report.Opened:N0} opened by a second process in {report.Seconds:N1} s on {plan.Count} hybrid connections; relay counts {seen:N0}; {answered}/{plan.Count} hybrid connections answered an HTTP-mode request ({(ok ? "met" : "MISSED")} {count:N0} concurrent listeners)");
        output.WriteLine($"    server process (relay + whole server): VmRSS {Mb(rssBefore)} -> {Mb(rssAfter)} = {Kb((rssAfter - rssBefore) / (double)count)} per listener; managed heap {Mb(heapBefore)} -> {Mb(heapAfter)} = {Kb((heapAfter - heapBefore) / (double)count)} per listener");
        output.WriteLine($"    listener process (the .NET client):    VmRSS {Mb(report.RssBefore)} -> {Mb(report.RssAfter)} = {Kb((report.RssAfter - report.RssBefore) / (double)report.Opened)} per listener; managed heap {Mb(report.HeapBefore)} -> {Mb(report.HeapAfter)} = {Kb((report.HeapAfter - report.HeapBefore) / (double)report.Opened)} per listener");
        return ok;
    }

    private static async Task<int> WaitForListenersAsync(HttpClient admin, List<ListenerChild.HybridConnectionPlan> plan, int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var seen = 0;
        while (deadline.Elapsed < timeout)
        {
            seen = 0;
            foreach (var hc in plan)
            {
                seen += (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/relay/hybridconnections/{hc.Path}")).GetProperty("listenerCount").GetInt32();
            }

            if (seen == count)
            {
                return seen;
            }

            await Task.Delay(200);
        }

        return seen;
    }

    /// <summary>This process's resident set and managed heap, after a full blocking collection.</summary>
    internal static (long Rss, long Heap) Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        return (ProcStatus(Environment.ProcessId, "VmRSS"), heap);
    }

    /// <summary>A size line of /proc/{pid}/status (VmRSS, VmHWM, ...) in bytes.</summary>
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

    private static async Task<(string KeyName, string Key)> CreateHybridConnectionAsync(HttpClient admin, string path)
    {
        using var created = await admin.PostAsJsonAsync("/api/v1/relay/hybridconnections", new { path, requiresClientAuthorization = true });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating hybrid connection '{path}': {(int)created.StatusCode} {body}");
        }

        var rule = body.GetProperty("authorizationRules")[0];
        return (rule.GetProperty("keyName").GetString()!, rule.GetProperty("primaryKey").GetString()!);
    }

    private static async Task<bool> OkAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode == HttpStatusCode.OK && body.Length == FixedHandler.Body.Length;
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):N1} MB";

    private static string Kb(double bytes) => $"{bytes / 1024.0:N1} kB";

    private static int Option(string[] args, string name, int fallback)
    {
        var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }

    internal static string Load()
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

    /// <summary>The same handler on both sides: a small fixed JSON answer.</summary>
    internal static class FixedHandler
    {
        public const string ContentType = "application/json";

        public static readonly byte[] Body = """{"status":"ok","service":"bench","items":[1,2,3]}"""u8.ToArray();

        public static RelayedHttpResponse Relayed(string target) =>
            new(200, Body) { StatusDescription = "OK", Headers = new Dictionary<string, string> { ["Content-Type"] = ContentType } };

        public static async Task WriteAsync(HttpContext context)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = ContentType;
            context.Response.ContentLength = Body.Length;
            await context.Response.Body.WriteAsync(Body, context.RequestAborted);
        }
    }

    /// <summary>A bare Kestrel with TLS 1.2/1.3 on loopback serving <see cref="FixedHandler"/> on every path.</summary>
    private sealed class DirectServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private DirectServer(WebApplication app, X509Certificate2 certificate, Uri address)
        {
            _app = app;
            Certificate = certificate;
            Address = address;
        }

        public X509Certificate2 Certificate { get; }

        public Uri Address { get; }

        public static async Task<DirectServer> StartAsync()
        {
            using var created = CertificateFactory.CreateSelfSigned("localhost");
            var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.UseHttps(certificate, https => https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13);
                });
            });
            var app = builder.Build();
            app.Run(FixedHandler.WriteAsync);
            await app.StartAsync();
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            return new DirectServer(app, certificate, new Uri($"https://localhost:{port.ToString(CultureInfo.InvariantCulture)}/"));
        }

        public SocketsHttpHandler CreateHandler() => new() { SslOptions = { RemoteCertificateValidationCallback = RelayClientOptions.TrustCertificate(Certificate) } };

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            Certificate.Dispose();
        }
    }
}
