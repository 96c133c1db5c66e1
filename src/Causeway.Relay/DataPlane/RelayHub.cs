using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net.WebSockets;

namespace Causeway.Relay.DataPlane;

/// <summary>
/// The relay's live state: listeners per hybrid connection and pending rendezvous. Thread-safe; lives as long as the host.
/// </summary>
internal sealed class RelayHub
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Rendezvous> _rendezvous = new(StringComparer.Ordinal);

    public int ListenerCount(string path) => _entries.TryGetValue(path, out var entry) ? entry.Listeners.Length : 0;

    public bool TryAddListener(ListenerSession session, int max)
    {
        var entry = _entries.GetOrAdd(session.Path, static _ => new Entry());
        lock (entry)
        {
            if (entry.Listeners.Length >= max)
            {
                return false;
            }

            entry.Listeners = entry.Listeners.Add(session);
            return true;
        }
    }

    public void RemoveListener(ListenerSession session)
    {
        if (_entries.TryGetValue(session.Path, out var entry))
        {
            lock (entry)
            {
                entry.Listeners = entry.Listeners.Remove(session);
            }
        }

        // Whatever waited on this listener will not be answered.
        foreach (var rendezvous in _rendezvous.Values)
        {
            if (rendezvous.Listener == session)
            {
                rendezvous.Arrived.TrySetResult(new RendezvousArrival(ArrivalKind.ListenerGone));
            }
        }
    }

    /// <summary>The next listener in round-robin order, or null when none is connected.</summary>
    public ListenerSession? NextListener(string path)
    {
        if (!_entries.TryGetValue(path, out var entry))
        {
            return null;
        }

        var listeners = entry.Listeners;
        if (listeners.IsEmpty)
        {
            return null;
        }

        var index = (int)((uint)Interlocked.Increment(ref entry.Next) % (uint)listeners.Length);
        return listeners[index];
    }

    /// <summary>Registers a rendezvous; null when <paramref name="maxPending"/> are already waiting on this path.</summary>
    public Rendezvous? TryBegin(string path, RendezvousKind kind, ListenerSession listener, int maxPending)
    {
        var entry = _entries.GetOrAdd(path, static _ => new Entry());
        if (Interlocked.Increment(ref entry.Pending) > maxPending)
        {
            Interlocked.Decrement(ref entry.Pending);
            return null;
        }

        var rendezvous = new Rendezvous(Guid.NewGuid().ToString("N"), path, kind, listener);
        _rendezvous[rendezvous.Id] = rendezvous;
        return rendezvous;
    }

    /// <summary>Takes a rendezvous out of the table (single use); null when unknown, used or expired.</summary>
    public Rendezvous? TryTake(string? id) =>
        id is not null && _rendezvous.TryRemove(id, out var rendezvous) ? rendezvous : null;

    /// <summary>
    /// Takes a rendezvous only if <paramref name="owner"/> is the listener it was offered to, so one listener cannot use
    /// up another's pending request.
    /// </summary>
    public Rendezvous? TryTake(string? id, ListenerSession owner) =>
        id is not null && _rendezvous.TryGetValue(id, out var rendezvous) && rendezvous.Listener == owner &&
        _rendezvous.TryRemove(new KeyValuePair<string, Rendezvous>(id, rendezvous))
            ? rendezvous
            : null;

    /// <summary>Ends a rendezvous (idempotent): it can no longer be used, and the pending count drops.</summary>
    public void End(Rendezvous rendezvous)
    {
        _rendezvous.TryRemove(new KeyValuePair<string, Rendezvous>(rendezvous.Id, rendezvous));
        rendezvous.Finished.TrySetResult();
        if (rendezvous.TryEnd() && _entries.TryGetValue(rendezvous.Path, out var entry))
        {
            Interlocked.Decrement(ref entry.Pending);
        }
    }

    /// <summary>Closes every listener of <paramref name="path"/> (hybrid connection deleted: 1001).</summary>
    public Task DisconnectAllAsync(string path, WebSocketCloseStatus status, string description)
    {
        if (!_entries.TryGetValue(path, out var entry))
        {
            return Task.CompletedTask;
        }

        return Task.WhenAll(entry.Listeners.Select(listener => listener.CloseAsync(status, description)));
    }

    private sealed class Entry
    {
        public ImmutableArray<ListenerSession> Listeners = [];
        public int Next = -1;
        public int Pending;
    }
}
