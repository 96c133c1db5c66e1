using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Causeway.Bus;

namespace Causeway.Gateway.Tests;

/// <summary>The bus contract over the built-in transport: one WebSocket over loopback TCP.</summary>
public sealed class WebSocketBusTests : BusConformanceTests
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private WebSocketBusConnection _client = null!;
    private WebSocketBusConnection _server = null!;
    private WebSocket _serverSocket = null!;

    public override async Task InitializeAsync()
    {
        _listener.Start();
        var accept = _listener.AcceptTcpClientAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accept;
        var clientSocket = WebSocket.CreateFromStream(tcp.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan);
        _serverSocket = WebSocket.CreateFromStream(serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan);
        _client = new WebSocketBusConnection(clientSocket, null) { MaxMessageSize = MaxMessageSize };
        _server = new WebSocketBusConnection(_serverSocket, new IdempotentHandler(Handler)) { MaxMessageSize = MaxMessageSize };
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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(WebSocketBusConnection.ChunkSize - 1)]
    [InlineData(WebSocketBusConnection.ChunkSize)]
    [InlineData(WebSocketBusConnection.ChunkSize + 1)]
    public async Task Body_AnswersAroundOneChunk_ArriveWholeWithTheirHead(int size)
    {
        // Up to one chunk the head, body and end travel as one frame; above it as head, chunks and end.
        var body = Enumerable.Range(0, size).Select(i => (byte)(i % 251)).ToArray();
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(203, "head"u8.ToArray(), ct);
            await response.Body.WriteAsync(body, ct);
        };

        await using var response = await Client.SendAsync(new BusRequest("sized", default), CancellationToken.None);
        using var received = new MemoryStream();
        await response.Body.CopyToAsync(received);

        Assert.Equal(203, response.Status);
        Assert.Equal("head", BusNotices.Text(response.Head));
        Assert.Equal(body, received.ToArray());
    }

    [Fact]
    public async Task SendAsync_HandlerReturnsWithoutStarting_Answers204WithNoBody()
    {
        Handler.Handle = (request, response, ct) => Task.CompletedTask;

        await using var response = await Client.SendAsync(new BusRequest("nothing", default), CancellationToken.None);

        Assert.Equal(204, response.Status);
        Assert.True(response.Head.IsEmpty);
        Assert.Equal("", await new StreamReader(response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task Body_HandlerFailsAfterStarting_HeadArrivesAndTheReadThrows()
    {
        // The held head still goes out before the error: the caller sees a started answer cut short, never a clean one.
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(200, Encoding.UTF8.GetBytes("started"), ct);
            await response.Body.WriteAsync("partial"u8.ToArray(), ct);
            throw new BusException("datasource-unreachable", "The database went away.");
        };

        await using var response = await Client.SendAsync(new BusRequest("fails", default), CancellationToken.None);

        Assert.Equal(200, response.Status);
        Assert.Equal("started", BusNotices.Text(response.Head));
        var error = await Assert.ThrowsAsync<IOException>(() => new StreamReader(response.Body).ReadToEndAsync());
        Assert.Contains("The database went away.", error.Message, StringComparison.Ordinal);
    }
}
