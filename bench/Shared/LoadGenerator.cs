using System.Diagnostics;

namespace Causeway.Benchmarks;

/// <summary>Throughput and latency of one target under a fixed number of concurrent callers.</summary>
internal sealed record LoadResult(string Name, long Requests, TimeSpan Elapsed, double P50Ms, double P99Ms, long Errors)
{
    public double Throughput => Requests / Elapsed.TotalSeconds;

    public override string ToString() => $"{Name}: {Throughput,9:N0} req/s  p50 {P50Ms,6:N3} ms  p99 {P99Ms,6:N3} ms  errors {Errors}";
}

/// <summary>A closed-loop load generator: each worker sends its next request when the last one has answered.</summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(string name, Func<CancellationToken, Task<bool>> call, int concurrency, TimeSpan duration, TimeSpan warmUp)
    {
        using (var warm = new CancellationTokenSource(warmUp))
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => LoopAsync(call, warm.Token, null)));
        }

        var latencies = new List<double>[concurrency];
        var errors = new long[concurrency];
        var watch = Stopwatch.StartNew();
        using (var stop = new CancellationTokenSource(duration))
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async i =>
            {
                latencies[i] = [];
                errors[i] = await LoopAsync(call, stop.Token, latencies[i]);
            }));
        }

        watch.Stop();
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(name, all.Length, watch.Elapsed, Percentile(all, 0.50), Percentile(all, 0.99), errors.Sum());
    }

    private static async Task<long> LoopAsync(Func<CancellationToken, Task<bool>> call, CancellationToken stop, List<double>? latencies)
    {
        long errors = 0;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            bool ok;
            try
            {
                ok = await call(CancellationToken.None);
            }
            catch (HttpRequestException)
            {
                ok = false;
            }

            if (!ok)
            {
                errors++;
            }
            else
            {
                latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        return errors;
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
