using System.Collections.Concurrent;

namespace Causeway.Platform.Database;

/// <summary>
/// Values read from the platform database, remembered for a short time so that a hot request path need not read them
/// again. A change made through this process calls <see cref="ForgetAll"/> after it commits, and is seen at once; a change
/// made by another process sharing the database is seen within the lifetime. A read that raced with a change cannot
/// store a stale value, nor outlive the lifetime counted from before the read: take a <see cref="BeginRead"/> ticket
/// before reading and pass it to <see cref="Remember"/>, which drops the value when a change came in between. At most <c>capacity</c> values are kept (then all are dropped and the memory
/// refills). Thread-safe.
/// </summary>
public sealed class RememberedReads<TKey, TValue>(TimeProvider time, TimeSpan lifetime, int capacity = 10_000)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private long _generation;

    private long Generation => Volatile.Read(ref _generation);

    /// <summary>Take this before the database read whose result may be remembered.</summary>
    public ReadTicket BeginRead() => new(Generation, time.GetUtcNow());

    /// <summary>The value remembered for the key, if it is from the current generation and younger than the lifetime.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.Generation == Generation && now >= entry.At && now - entry.At < lifetime)
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Remembers a value read after <paramref name="ticket"/> was taken; nothing if a change came since.</summary>
    public void Remember(TKey key, TValue value, ReadTicket ticket)
    {
        if (ticket.Generation != Generation)
        {
            return;
        }

        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        _entries[key] = new Entry(value, ticket.Generation, ticket.At);
    }

    /// <summary>Forgets everything; call it after a change commits.</summary>
    public void ForgetAll()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    private sealed record Entry(TValue Value, long Generation, DateTimeOffset At);
}

/// <summary>When a read began: the memory's generation and the time (see <see cref="RememberedReads{TKey, TValue}.BeginRead"/>).</summary>
public readonly record struct ReadTicket(long Generation, DateTimeOffset At);
