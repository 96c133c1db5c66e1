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
/// window. Refused calls are not counted. Calls are remembered by time with a count, so a connection costs at most about
/// <see cref="MaxEntries"/> entries whatever its limit: up to that many calls per window each call's own time is kept
/// (exact); above it, times are rounded up to a window ÷ <see cref="MaxEntries"/> step, so a call may stay counted up to
/// that step longer (6 ms of a 60 s window), never shorter. Thread-safe; time from the <see cref="TimeProvider"/>.
/// </summary>
public sealed class ConnectionThrottle
{
    /// <summary>Most entries a connection's window holds (limits above it are counted in steps).</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<(string Connector, string Connection), Window> _windows = new();
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
        var step = limit.PermitLimit <= MaxEntries ? 1 : Math.Max(1, window / MaxEntries);
        var calls = _windows.GetOrAdd((connectorName.ToLowerInvariant(), connectionId), _ => new Window());
        lock (calls)
        {
            calls.Expire(now - window);
            if (calls.Total < limit.PermitLimit)
            {
                // Rounded up to the step, so that a call is never forgotten before its window has passed.
                calls.Add(step == 1 ? now : (now + step - 1) / step * step);
                return new ThrottleDecision(true, TimeSpan.Zero, limit.PermitLimit - calls.Total);
            }

            var wait = calls.Oldest + window - now;
            var retry = TimeSpan.FromSeconds((double)wait / _time.TimestampFrequency);

            // Retry-After is whole seconds on the wire; round up so that a retry at that time is allowed.
            return new ThrottleDecision(false, TimeSpan.FromSeconds(Math.Ceiling(retry.TotalSeconds)), 0);
        }
    }

    /// <summary>How many entries the window of a connection holds (for tests; 0 when it has none).</summary>
    internal int EntriesOf(string connectorName, string connectionId)
    {
        if (!_windows.TryGetValue((connectorName.ToLowerInvariant(), connectionId), out var calls))
        {
            return 0;
        }

        lock (calls)
        {
            return calls.Entries;
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
                if (calls.Total > 0 && now - calls.Newest < window)
                {
                    continue;
                }
            }

            if (_windows.TryRemove(new KeyValuePair<(string, string), Window>(key, calls)))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// The calls of one connection in its window: times, oldest first, each with how many calls it stands for. The newest
    /// entry is kept apart, so that calls at its (rounded) time only raise its count. Not thread-safe: the throttle locks it.
    /// </summary>
    private sealed class Window
    {
        private readonly Queue<(long Time, int Count)> _older = new();
        private (long Time, int Count) _newest;

        public int Total { get; private set; }

        /// <summary>How many entries the window holds (tests).</summary>
        public int Entries => _older.Count + (_newest.Count > 0 ? 1 : 0);

        public long Oldest => _older.Count > 0 ? _older.Peek().Time : _newest.Time;

        public long Newest => _newest.Time;

        public void Add(long time)
        {
            Total++;
            if (_newest.Count > 0 && _newest.Time == time)
            {
                _newest.Count++;
                return;
            }

            if (_newest.Count > 0)
            {
                _older.Enqueue(_newest);
            }

            _newest = (time, 1);
        }

        /// <summary>Drops the calls made at or before <paramref name="before"/>.</summary>
        public void Expire(long before)
        {
            while (_older.Count > 0 && _older.Peek().Time <= before)
            {
                Total -= _older.Dequeue().Count;
            }

            if (_older.Count == 0 && _newest.Count > 0 && _newest.Time <= before)
            {
                Total -= _newest.Count;
                _newest = default;
            }
        }
    }
}
