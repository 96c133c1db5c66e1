using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>
/// Counts the runtime's allocation samples (one per ~100 KB allocated, naming the type that crossed the mark) in this
/// process while enabled: over many requests the counts show which types make up the allocated bytes.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _samples = new();
    private volatile bool _counting;

    public void Start() => _counting = true;

    public void Stop() => _counting = false;

    /// <summary>The types sampled most, with their share of all samples.</summary>
    public IEnumerable<(string Type, double Share)> Top(int count)
    {
        var total = (double)Math.Max(1, _samples.Values.Sum());
        return _samples.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value / total));
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_counting || eventData.EventName != "GCAllocationTick_V4" || eventData.Payload is null)
        {
            return;
        }

        var index = eventData.PayloadNames?.IndexOf("TypeName") ?? -1;
        if (index >= 0 && eventData.Payload[index] is string type)
        {
            _samples.AddOrUpdate(type, 1, (_, n) => n + 1);
        }
    }
}
