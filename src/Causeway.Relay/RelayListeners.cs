using Causeway.Relay.DataPlane;

namespace Causeway.Relay;

/// <summary>Read-only view of the listeners connected to this relay, for components hosted beside it. Thread-safe.</summary>
public sealed class RelayListeners
{
    private readonly RelayHub _hub;

    internal RelayListeners(RelayHub hub) => _hub = hub;

    /// <summary>How many listeners are connected on the hybrid connection at <paramref name="path"/> (0 when none, or no such path).</summary>
    public int Count(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return _hub.ListenerCount(path);
    }

    /// <summary>True when at least one listener is connected on <paramref name="path"/>.</summary>
    public bool IsConnected(string path) => Count(path) > 0;
}
