using System.Collections.Concurrent;
using Causeway.Bus;

namespace Causeway.Gateway;

/// <summary>One connected agent.</summary>
public sealed class MemberSession(Guid memberId, Guid clusterId, string memberName, WebSocketBusConnection connection, DateTimeOffset connectedAt)
{
    private int _active;

    /// <summary>The member.</summary>
    public Guid MemberId { get; } = memberId;

    /// <summary>Its cluster.</summary>
    public Guid ClusterId { get; } = clusterId;

    /// <summary>Its name.</summary>
    public string MemberName { get; } = memberName;

    /// <summary>The bus to it.</summary>
    public WebSocketBusConnection Connection { get; } = connection;

    /// <summary>When it connected.</summary>
    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    /// <summary>The last heartbeat (or the connection time).</summary>
    public DateTimeOffset LastHeartbeat { get; set; } = connectedAt;

    /// <summary>The version the agent reports.</summary>
    public string? Version { get; set; }

    /// <summary>Requests in flight through this server.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Takes a slot if fewer than <paramref name="limit"/> are taken.</summary>
    public bool TryAcquire(int limit)
    {
        while (true)
        {
            var current = Volatile.Read(ref _active);
            if (current >= limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _active, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Gives a slot back.</summary>
    public void Release() => Interlocked.Decrement(ref _active);
}

/// <summary>The agents connected to this server, by member. Thread-safe.</summary>
public sealed class MemberRegistry(GatewayOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, MemberSession> _sessions = new();

    /// <summary>Adds a session; a previous session of the same member is returned so the caller can close it.</summary>
    public MemberSession? Add(MemberSession session)
    {
        MemberSession? previous = null;
        _sessions.AddOrUpdate(session.MemberId, session, (_, old) =>
        {
            previous = old;
            return session;
        });
        return previous;
    }

    /// <summary>Removes the session if it is still the member's current one.</summary>
    public void Remove(MemberSession session) => _sessions.TryRemove(new KeyValuePair<Guid, MemberSession>(session.MemberId, session));

    /// <summary>The session of a member, if it is connected.</summary>
    public MemberSession? Find(Guid memberId) => _sessions.GetValueOrDefault(memberId);

    /// <summary>True when the session is connected and has sent a heartbeat within three intervals.</summary>
    public bool IsOnline(MemberSession? session) =>
        session is not null && !session.Connection.Closed.IsCancellationRequested && time.GetUtcNow() - session.LastHeartbeat <= 3 * options.HeartbeatInterval;
}
