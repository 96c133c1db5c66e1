using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Causeway.Bus;

namespace Causeway.Gateway.Tests;

public sealed class BusTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private WebSocketBusConnection _client = null!;
    private WebSocketBusConnection _server = null!;
    private WebSocket _serverSocket = null!;
    private readonly DelegateHandler _handler = new();

    public async Task InitializeAsync()
    {
        _listener.Start();
        var accept = _listener.AcceptTcpClientAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accept;
        var clientSocket = WebSocket.CreateFromStream(tcp.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan);
        _serverSocket = WebSocket.CreateFromStream(serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan);
        _client = new WebSocketBusConnection(clientSocket, null);
        _server = new WebSocketBusConnection(_serverSocket, _handler);
        _ = _client.RunAsync(CancellationToken.None);
        _ = _server.RunAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _listener.Stop();
    }

    [Fact]
    public async Task SendAsync_HandlerAnswers_ReturnsStatusHeadAndWholeBody()
    {
        _handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(201, Encoding.UTF8.GetBytes(request.Operation + "|" + request.IdempotencyKey), ct);
            await response.Body.WriteAsync(request.Body, ct);
        };

        await using var response = await _client.SendAsync(new BusRequest("echo", "hello"u8.ToArray()) { IdempotencyKey = "k1" }, CancellationToken.None);

        Assert.Equal(201, response.Status);
        Assert.Equal("echo|k1", BusNotices.Text(response.Head));
        Assert.Equal("hello", await new StreamReader(response.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task SendAsync_ManyConcurrentRequests_AreMultiplexedByCorrelationId()
    {
        _handler.Handle = async (request, response, ct) =>
        {
            await Task.Yield();
            await response.StartAsync(200, default, ct);
            await response.Body.WriteAsync(request.Body, ct);
        };

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            await using var response = await _client.SendAsync(new BusRequest("echo", Encoding.UTF8.GetBytes($"n{i}")), CancellationToken.None);
            return await new StreamReader(response.Body).ReadToEndAsync();
        }));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"n{i}"), answers);
    }

    [Fact]
    public async Task Body_SlowReader_HoldsTheWriterBackByCredit()
    {
        var written = 0;
        _handler.Handle = async (request, response, ct) =>
        {
            var chunk = new byte[WebSocketBusConnection.ChunkSize];
            for (var i = 0; i < 100; i++)
            {
                await response.Body.WriteAsync(chunk, ct);
                Interlocked.Increment(ref written);
            }
        };

        await using var response = await _client.SendAsync(new BusRequest("big", default), CancellationToken.None);
        await Causeway.Testing.Poll.UntilAsync(() => Volatile.Read(ref written) >= WebSocketBusConnection.InitialCredit, TimeSpan.FromSeconds(10), "the first chunks");
        var total = 0L;
        var maxAhead = 0L;
        var buffer = new byte[WebSocketBusConnection.ChunkSize];
        int n;
        while ((n = await response.Body.ReadAsync(buffer)) > 0)
        {
            total += n;
            // The writer may run ahead of the reader by its credit window (plus the chunk it is buffering), never more.
            maxAhead = Math.Max(maxAhead, Volatile.Read(ref written) - (total / WebSocketBusConnection.ChunkSize));
        }

        Assert.InRange(maxAhead, 1, WebSocketBusConnection.InitialCredit + 2);
        Assert.Equal(100L * WebSocketBusConnection.ChunkSize, total);
    }

    [Fact]
    public async Task Body_PeerVanishesMidStream_ReadThrowsInsteadOfEndingEarly()
    {
        var started = new TaskCompletionSource();
        _handler.Handle = async (request, response, ct) =>
        {
            await response.Body.WriteAsync(new byte[WebSocketBusConnection.ChunkSize * 2], ct);
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        };

        await using var response = await _client.SendAsync(new BusRequest("stream", default), CancellationToken.None);
        await started.Task;
        var buffer = new byte[WebSocketBusConnection.ChunkSize];
        Assert.True(await response.Body.ReadAsync(buffer) > 0);
        _serverSocket.Abort();

        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await response.Body.ReadAsync(buffer) > 0)
            {
            }
        });
        Assert.Contains("cut short", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_DeadlinePasses_ThrowsDeadlineAndHandlerIsCancelled()
    {
        var cancelled = new TaskCompletionSource();
        _handler.Handle = async (request, response, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };

        var error = await Assert.ThrowsAsync<BusException>(() =>
            _client.SendAsync(new BusRequest("slow", default) { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(300) }, CancellationToken.None));

        Assert.Equal(BusErrorKind.DeadlineExceeded, error.Kind);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_CallerCancels_HandlerIsCancelled()
    {
        var cancelled = new TaskCompletionSource();
        _handler.Handle = async (request, response, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                cancelled.TrySetResult();
            }
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.SendAsync(new BusRequest("slow", default), cts.Token));

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_HandlerThrows_SafeMessagesOnly()
    {
        _handler.Handle = (request, response, ct) => request.Operation == "known"
            ? throw new BusException("datasource-unreachable", "The database does not answer.")
            : throw new InvalidOperationException("password=hunter2");

        var known = await Assert.ThrowsAsync<BusException>(() => _client.SendAsync(new BusRequest("known", default), CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<BusException>(() => _client.SendAsync(new BusRequest("other", default), CancellationToken.None));

        Assert.Equal("datasource-unreachable", known.Code);
        Assert.Equal("The database does not answer.", known.Message);
        Assert.DoesNotContain("hunter2", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ConnectionGone_ThrowsDisconnected()
    {
        await _server.DisposeAsync();
        await _client.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<BusException>(() => _client.SendAsync(new BusRequest("x", default), CancellationToken.None));

        Assert.Equal(BusErrorKind.Disconnected, error.Kind);
    }

    private sealed class DelegateHandler : IBusHandler
    {
        public Func<BusIncomingRequest, IBusResponseWriter, CancellationToken, Task> Handle { get; set; } = (_, _, _) => Task.CompletedTask;

        public Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken) => Handle(request, response, cancellationToken);
    }
}
