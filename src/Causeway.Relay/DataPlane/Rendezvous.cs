using System.Net.WebSockets;
using Causeway.Relay.Protocol;

namespace Causeway.Relay.DataPlane;

internal enum RendezvousKind
{
    /// <summary>A sender's WebSocket waiting for the listener to accept.</summary>
    Accept,

    /// <summary>An HTTP-mode request waiting for its response (inline or over a rendezvous socket).</summary>
    Request,
}

internal enum ArrivalKind
{
    Socket,
    Rejected,
    ControlResponse,
    ListenerGone,
}

/// <summary>What the listener did with a pending rendezvous.</summary>
internal sealed record RendezvousArrival(
    ArrivalKind Kind,
    WebSocket? Socket = null,
    string? SubProtocol = null,
    int StatusCode = 0,
    string? Description = null,
    ResponseCommand? Response = null,
    ReadOnlyMemory<byte> Body = default);

/// <summary>
/// A single-use meeting point: the waiting side (sender or HTTP request) owns it and ends it; the listener's side
/// completes <see cref="Arrived"/> and then holds its socket open until <see cref="Finished"/>.
/// </summary>
internal sealed class Rendezvous(string id, string path, RendezvousKind kind, ListenerSession listener)
{
    private int _ended;

    public string Id { get; } = id;

    public string Path { get; } = path;

    public RendezvousKind Kind { get; } = kind;

    public ListenerSession Listener { get; } = listener;

    public TaskCompletionSource<RendezvousArrival> Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True exactly once.</summary>
    public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;
}
