using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Causeway.Bus;

namespace Causeway.Gateway.Tests;

/// <summary>Frames that queue up behind a send under way leave together, and only when both ends agreed to it.</summary>
public sealed class WebSocketBatchingTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private TcpClient _clientTcp = null!;
    private TcpClient _serverTcp = null!;

    public async Task InitializeAsync()
    {
        _listener.Start();
        var accept = _listener.AcceptTcpClientAsync();
        _clientTcp = new TcpClient();
        await _clientTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        _serverTcp = await accept;
    }

    public Task DisposeAsync()
    {
        _clientTcp.Dispose();
        _serverTcp.Dispose();
        _listener.Stop();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 10)]
    public async Task SendAsync_RequestsQueuedBehindASend_LeaveAsOneMessageOnlyWhenBatching(bool batching, int writes)
    {
        var (answers, written) = await SendBehindAGateAsync(batching, requests: 10, bodySize: 0, serverLimit: WebSocketBusConnection.DefaultMaxMessageSize);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"op-{i}"), answers);
        Assert.Equal(writes, written);
    }

    [Fact]
    public async Task SendAsync_QueuedFramesOverTheBatchLimit_SplitIntoMessagesThePeerAccepts()
    {
        // Four 30 kB requests queue up behind the first: two fit in one batch under 64 kB, the smallest limit a peer may have.
        var (answers, written) = await SendBehindAGateAsync(batching: true, requests: 5, bodySize: 30_000, serverLimit: 64 * 1024);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"op-{i}"), answers);
        Assert.Equal(3, written);
    }

    /// <summary>
    /// Sends one request whose write is held, queues the rest behind it, lets the write go and collects the answers (the
    /// operations, echoed as heads) and the number of writes the client made.
    /// </summary>
    private async Task<(List<string> Answers, int Writes)> SendBehindAGateAsync(bool batching, int requests, int bodySize, int serverLimit)
    {
        var gated = new GatedStream(_clientTcp.GetStream());
        await using var client = new WebSocketBusConnection(WebSocket.CreateFromStream(gated, isServer: false, null, Timeout.InfiniteTimeSpan), null) { Batching = batching };
        await using var server = new WebSocketBusConnection(WebSocket.CreateFromStream(_serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan), new Echo())
        {
            Batching = batching,
            MaxMessageSize = serverLimit,
        };
        _ = client.RunAsync(CancellationToken.None);
        _ = server.RunAsync(CancellationToken.None);
        var body = new byte[bodySize];

        var first = client.SendAsync(new BusRequest("op-0", body), CancellationToken.None);
        await gated.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        var rest = Enumerable.Range(1, requests - 1).Select(i => client.SendAsync(new BusRequest($"op-{i}", body), CancellationToken.None)).ToList();
        gated.Open();

        var answers = new List<string>();
        foreach (var call in rest.Prepend(first))
        {
            await using var response = await call.WaitAsync(TimeSpan.FromSeconds(10));
            answers.Add(BusNotices.Text(response.Head));
        }

        return (answers, gated.Writes);
    }

    [Fact]
    public async Task RunAsync_MalformedBatch_ClosesTheConnection()
    {
        var raw = WebSocket.CreateFromStream(_clientTcp.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan);
        await using var server = new WebSocketBusConnection(WebSocket.CreateFromStream(_serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan), new Echo()) { Batching = true };
        _ = server.RunAsync(CancellationToken.None);

        // A batch whose one inner frame claims more bytes than the message holds.
        var message = new byte[17 + 4 + 3];
        message[0] = 10;
        message[20] = 200;
        await raw.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        await server.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        raw.Dispose();
    }

    private sealed class Echo : IBusHandler
    {
        public Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken) =>
            response.StartAsync(200, Encoding.UTF8.GetBytes(request.Operation), cancellationToken);
    }

    /// <summary>Counts writes; the first one waits until <see cref="Open"/>, so that the next frames queue up behind it.</summary>
    private sealed class GatedStream(Stream inner) : Stream
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _writes;

        public Task FirstWriteStarted => _started.Task;

        public int Writes => Volatile.Read(ref _writes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Open() => _gate.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            _started.TrySetResult();
            await _gate.Task.WaitAsync(cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
