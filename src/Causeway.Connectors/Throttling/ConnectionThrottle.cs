using System.Collections.Concurrent;

namespace Causeway.Connectors;

/// <summary>A call limit: at most <see cref="PermitLimit"/> calls in any <see cref="Window"/>.</summary>
public sealed record ThrottleLimit(int PermitLimit, TimeSpan Window);

/// <summary>Options of <see cref="ConnectionThrottle"/>.</summary>
public sealed class ConnectionThrottleOptions
{
    /// <summary>
    /// The limit of a connection whose connector has none of its own: 500 calls per 60 seconds, the documented limit
    /// of custom connectors.
    /// </summary>
    public ThrottleLimit Default { get; set; } = new(500, TimeSpan.FromSeconds(60));

    /// <summary>Limits per connector name (each connector documents its own "calls per connection per 60 seconds").</summary>
    public IDictionary<string, ThrottleLimit> PerConnector { get; } = new Dictionary<string, ThrottleLimit>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Throws when a limit cannot work, naming the setting.</summary>
    public void Validate()
    {
        foreach (var (name, limit) in PerConnector.Prepend(new("Default", Default)))
        {
            if (limit.PermitLimit < 1 || limit.Window <= TimeSpan.Zero)
            {
                throw new InvalidOperationException($"ConnectionThrottleOptions.{(name == "Default" ? "Default" : $"PerConnector[{name}]")}: PermitLimit must be at least 1 and Window positive.");
            }
        }
    }
}

/// <summary>The answer of <see cref="ConnectionThrottle.TryAcquire"/>.</summary>
/// <param name="Allowed">True when the call may go ahead (and has been counted).</param>
/// <param name="RetryAfter">When refused: how long until a slot frees up (the Retry-After of the 429).</param>
/// <param name="Remaining">Calls left in the current window after this one.</param>
public readonly record struct ThrottleDecision(bool Allowed, TimeSpan RetryAfter, int Remaining);

/// <summary>
/// Per-connection sliding-window throttle: a call is allowed when fewer than the limit were allowed in the last
/// window. Refused calls are not counted. Thread-safe; time from the <see cref="TimeProvider"/>.
/// </summary>
public sealed class ConnectionThrottle
{
    private readonly ConcurrentDictionary<(string Connector, string Connection), Queue<long>> _windows = new();
    private readonly TimeProvider _time;
    private readonly ConnectionThrottleOptions _options;

    /// <summary>Creates the throttle; validates the options.</summary>
    public ConnectionThrottle(TimeProvider time, ConnectionThrottleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _options = options ?? new ConnectionThrottleOptions();
        _options.Validate();
    }

    /// <summary>The limit of a connector.</summary>
    public ThrottleLimit LimitFor(string connectorName) =>
        _options.PerConnector.TryGetValue(connectorName, out var limit) ? limit : _options.Default;

    /// <summary>Counts a call of the connection if the limit allows it.</summary>
    public ThrottleDecision TryAcquire(string connectorName, string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectorName);
        ArgumentNullException.ThrowIfNull(connectionId);
        var limit = LimitFor(connectorName);
        var now = _time.GetTimestamp();
        var window = (long)(limit.Window.TotalSeconds * _time.TimestampFrequency);
        var calls = _windows.GetOrAdd((connectorName.ToLowerInvariant(), connectionId), _ => new Queue<long>());
        lock (calls)
        {
            while (calls.Count > 0 && now - calls.Peek() >= window)
            {
                calls.Dequeue();
            }

            if (calls.Count < limit.PermitLimit)
            {
                calls.Enqueue(now);
                return new ThrottleDecision(true, TimeSpan.Zero, limit.PermitLimit - calls.Count);
            }

            var wait = calls.Peek() + window - now;
            var retry = TimeSpan.FromSeconds((double)wait / _time.TimestampFrequency);

            // Retry-After is whole seconds on the wire; round up so that a retry at that time is allowed.
            return new ThrottleDecision(false, TimeSpan.FromSeconds(Math.Ceiling(retry.TotalSeconds)), 0);
        }
    }

    /// <summary>Forgets connections with no call in their window (call it now and then to bound memory).</summary>
    public int Prune()
    {
        var removed = 0;
        var now = _time.GetTimestamp();
        foreach (var (key, calls) in _windows)
        {
            var window = (long)(LimitFor(key.Connector).Window.TotalSeconds * _time.TimestampFrequency);
            lock (calls)
            {
                if (calls.Count > 0 && now - calls.Last() < window)
                {
                    continue;
                }
            }

            if (_windows.TryRemove(new KeyValuePair<(string, string), Queue<long>>(key, calls)))
            {
                removed++;
            }
        }

        return removed;
    }
}
