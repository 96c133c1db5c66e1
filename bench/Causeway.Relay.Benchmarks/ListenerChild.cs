using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Causeway.Relay.Client;

namespace Causeway.Relay.Benchmarks;

/// <summary>
/// The listeners' side of the 1,000-listener measurement, in a process of its own: reads one JSON line (relay address,
/// certificate file, hybrid connections with their keys) from standard input — keys never appear on a command line —
/// opens the listeners, prints <c>ready {json}</c> with its own memory before and after, and closes them all when
/// standard input says <c>stop</c> or ends.
/// </summary>
internal static class ListenerChild
{
    public const string Command = "listeners-child";

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    internal sealed record HybridConnectionPlan(string Path, string KeyName, string Key, int Listeners);

    internal sealed record ListenerPlan(string RelayAddress, string CertificatePath, IReadOnlyList<HybridConnectionPlan> HybridConnections);

    internal sealed record ChildReport(int Opened, double Seconds, long RssBefore, long RssAfter, long HeapBefore, long HeapAfter);

    /// <summary>Starts this program again as the child, with standard streams redirected.</summary>
    public static Process Start()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ListenerChild).Assembly.Location);
        start.ArgumentList.Add(Command);
        return Process.Start(start) ?? throw new InvalidOperationException("The listener process did not start.");
    }

    public static async Task<int> RunAsync(TextReader input, TextWriter output)
    {
        var plan = JsonSerializer.Deserialize<ListenerPlan>(await input.ReadLineAsync() ?? "null", Web)
            ?? throw new InvalidOperationException("Expected the listener plan as one JSON line on standard input.");
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(plan.CertificatePath);
        var options = new RelayClientOptions { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(certificate) };
        var relay = new Uri(plan.RelayAddress);
        var (rssBefore, heapBefore) = RelayBenchmark.Measure();

        var listeners = new List<HybridConnectionListener>();
        var watch = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(plan.HybridConnections.SelectMany(hc => Enumerable.Repeat(hc, hc.Listeners)).Select(async hc =>
            {
                await gate.WaitAsync();
                try
                {
                    var listener = new HybridConnectionListener(relay, hc.Path, hc.KeyName, hc.Key, options)
                    {
                        RequestHandler = (request, _) => Task.FromResult(RelayBenchmark.FixedHandler.Relayed(request.RequestTarget)),
                    };
                    await listener.OpenAsync();
                    lock (listeners)
                    {
                        listeners.Add(listener);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var (rssAfter, heapAfter) = RelayBenchmark.Measure();
        await output.WriteLineAsync("ready " + JsonSerializer.Serialize(new ChildReport(listeners.Count, seconds, rssBefore, rssAfter, heapBefore, heapAfter), Web));
        await output.FlushAsync();

        await input.ReadLineAsync();
        await Task.WhenAll(listeners.Select(l => l.DisposeAsync().AsTask()));
        return 0;
    }
}
