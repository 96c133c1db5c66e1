using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Causeway.Bus;

namespace Causeway.Gateway.Tests;

/// <summary>The bus contract over the built-in transport: one WebSocket over loopback TCP, one frame per message.</summary>
public class WebSocketBusTests : BusConformanceTests
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private WebSocketBusConnection _client = null!;
    private WebSocketBusConnection _server = null!;
    private WebSocket _serverSocket = null!;

    /// <summary>Whether both ends batch frames queued behind a send under way.</summary>
    protected virtual bool Batching => false;

    public override async Task InitializeAsync()
    {
        _listener.Start();
        var accept = _listener.AcceptTcpClientAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accept;
        var clientSocket = WebSocket.CreateFromStream(tcp.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan);
        _serverSocket = WebSocket.CreateFromStream(serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan);
        _client = new WebSocketBusConnection(clientSocket, null) { MaxMessageSize = MaxMessageSize, Batching = Batching };
        _server = new WebSocketBusConnection(_serverSocket, new IdempotentHandler(Handler)) { MaxMessageSize = MaxMessageSize, Batching = Batching };
        _ = _client.RunAsync(CancellationToken.None);
        _ = _server.RunAsync(CancellationToken.None);
        Client = _client;
    }

    public override async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _listener.Stop();
    }

    protected override Task KillServingSideAsync()
    {
        _serverSocket.Abort();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SendAsync_ConnectionGone_ThrowsDisconnected()
    {
        await _server.DisposeAsync();
        await _client.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<BusException>(() => _client.SendAsync(new BusRequest("x", default), CancellationToken.None));

        Assert.Equal(BusErrorKind.Disconnected, error.Kind);
    }
}

/// <summary>The same contract with both ends batching frames that queue up behind a send under way.</summary>
public sealed class BatchingWebSocketBusTests : WebSocketBusTests
{
    protected override bool Batching => true;
}
