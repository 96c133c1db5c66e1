using System.Net.WebSockets;
using Causeway.Relay.DataPlane;

namespace Causeway.Relay.Tests;

public sealed class RelayHubTests
{
    [Fact]
    public void TryBegin_OverPendingLimit_ReturnsNullUntilOneEnds()
    {
        var hub = new RelayHub();
        using var listener = Listener("echo");
        var first = hub.TryBegin("echo", RendezvousKind.Accept, listener, maxPending: 1);

        Assert.NotNull(first);
        Assert.Null(hub.TryBegin("echo", RendezvousKind.Accept, listener, maxPending: 1));

        hub.End(first);
        hub.End(first);
        Assert.NotNull(hub.TryBegin("echo", RendezvousKind.Accept, listener, maxPending: 1));
    }

    [Fact]
    public void TryTake_IsSingleUse()
    {
        var hub = new RelayHub();
        using var listener = Listener("echo");
        var rendezvous = hub.TryBegin("echo", RendezvousKind.Request, listener, 10)!;

        Assert.Same(rendezvous, hub.TryTake(rendezvous.Id));
        Assert.Null(hub.TryTake(rendezvous.Id));
    }

    [Fact]
    public void TryTake_OtherListener_ReturnsNullAndLeavesItForTheOwner()
    {
        var hub = new RelayHub();
        using var owner = Listener("echo");
        using var other = Listener("echo");
        var rendezvous = hub.TryBegin("echo", RendezvousKind.Request, owner, 10)!;

        Assert.Null(hub.TryTake(rendezvous.Id, other));
        Assert.Same(rendezvous, hub.TryTake(rendezvous.Id, owner));
    }

    [Fact]
    public async Task RemoveListener_PendingRendezvous_CompletesWithListenerGone()
    {
        var hub = new RelayHub();
        using var listener = Listener("echo");
        Assert.True(hub.TryAddListener(listener, 1));
        var rendezvous = hub.TryBegin("echo", RendezvousKind.Accept, listener, 10)!;

        hub.RemoveListener(listener);

        Assert.Equal(ArrivalKind.ListenerGone, (await rendezvous.Arrived.Task).Kind);
        Assert.Null(hub.NextListener("echo"));
    }

    [Fact]
    public void TryAddListener_OverLimit_ReturnsFalse()
    {
        var hub = new RelayHub();
        using var first = Listener("echo");
        using var second = Listener("ECHO");

        Assert.True(hub.TryAddListener(first, 1));
        Assert.False(hub.TryAddListener(second, 1));
        Assert.Equal(1, hub.ListenerCount("Echo"));
    }

    private static ListenerSession Listener(string path) =>
        new(path, Guid.NewGuid().ToString(), WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions()), "wss://localhost:1", DateTimeOffset.UtcNow.AddHours(1), TimeProvider.System);
}
