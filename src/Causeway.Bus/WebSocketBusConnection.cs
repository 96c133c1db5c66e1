using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Causeway.Bus;

/// <summary>
/// The built-in bus transport: requests and responses of any number of concurrent calls multiplexed over one WebSocket
/// (the agent dials out with TLS; either side may then send requests). Each WebSocket message is one frame:
/// <c>type(1) | correlation id(16) | payload</c>.
/// </summary>
/// <remarks>
/// A response's head is held until its first body chunk, its end or its error, so that a small answer (head and a body
/// that fits in one chunk) costs one frame, <c>Complete</c>, instead of three (head, chunk, end).
/// </remarks>
/// <remarks>
/// Back-pressure is credit-based: a receiver grants <see cref="InitialCredit"/> chunks per response and one more for
/// every chunk its reader consumes, so a slow HTTP client slows the database read on the agent instead of filling
/// memory anywhere. Nothing is spooled to disk. Sends are serialized (one lock, or with <see cref="Batching"/> one sender at a
/// time that takes what queued meanwhile along); the receive loop never blocks on a
/// consumer. Thread-safe.
/// </remarks>
public sealed class WebSocketBusConnection : IBusClient, IAsyncDisposable
{
    /// <summary>Chunks a sender may have in flight per response before it waits for credit.</summary>
    public const int InitialCredit = 8;

    /// <summary>The largest body chunk sent in one frame.</summary>
    public const int ChunkSize = 32 * 1024;

    /// <summary>The default limit of one request (operation, headers and body).</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly IBusHandler? _handler;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<Guid, PendingCall> _calls = new();
    private readonly ConcurrentDictionary<Guid, IncomingCall> _incoming = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<QueuedFrame> _queue = [];
    private bool _writing;

    /// <summary>Wraps an open WebSocket; call <see cref="RunAsync"/> to start receiving.</summary>
    /// <param name="handler">Handles requests from the peer; null refuses them.</param>
    public WebSocketBusConnection(WebSocket socket, IBusHandler? handler)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _handler = handler;
    }

    /// <summary>
    /// The largest request this side sends or accepts (header and body). A larger request is refused before anything is
    /// sent (<see cref="BusErrorKind.MessageTooLarge"/>); a peer that sends a larger frame anyway is cut off.
    /// </summary>
    public int MaxMessageSize { get; init; } = DefaultMaxMessageSize;

    /// <summary>
    /// The WebSocket subprotocol of a peer that reads <see cref="FrameType.Batch"/> messages. Every peer of this version reads
    /// them; a side sends them only when the handshake settled on this subprotocol (<see cref="Batching"/>), so an older
    /// peer on the other end still gets one frame per message.
    /// </summary>
    public const string BatchingSubProtocol = "causeway-bus.2";

    /// <summary>Whether frames sent while another send is under way go out together in one message (the peer reads them).</summary>
    public bool Batching { get; init; }

    // Frames queued while a send is under way go out together up to this size: the smallest message limit a peer may be
    // configured with (Gateway:MaxMessageSize is at least 64 kB), so that no batch is larger than a frame the peer accepts.
    private const int MaxBatchSize = 64 * 1024;

    /// <summary>One-way messages from the peer (hello, heartbeats). Called on the receive loop: keep it short.</summary>
    public Func<ReadOnlyMemory<byte>, Task>? NoticeReceived { get; set; }

    /// <summary>Requests this side is handling right now.</summary>
    public int ActiveIncoming => _incoming.Count;

    /// <summary>Completes when the connection has ended (closed, failed or disposed).</summary>
    public Task Completion => _completed.Task;

    /// <summary>Fires when the connection ends.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Receives until the socket closes or <paramref name="cancellationToken"/> fires; then fails every pending call.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        try
        {
            while (!link.IsCancellationRequested)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), link.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > MaxMessageSize + 1024)
                    {
                        throw new InvalidDataException("A bus frame is larger than the message size limit.");
                    }
                }
                while (!result.EndOfMessage);

                if (buffer.WrittenCount >= 17 && buffer.WrittenSpan[0] == (byte)FrameType.Batch)
                {
                    await DispatchBatchAsync(buffer.WrittenMemory[17..]);
                }
                else if (buffer.WrittenCount >= 17)
                {
                    await DispatchAsync(buffer.WrittenSpan[0], new Guid(buffer.WrittenSpan.Slice(1, 16)), buffer.WrittenMemory[17..].ToArray());
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException or InvalidDataException)
        {
            // The peer vanished or we stopped: either way the calls below fail with Disconnected.
        }
        finally
        {
            Shutdown();
        }
    }

    /// <inheritdoc/>
    public async Task<IBusResponse> SendAsync(BusRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = JsonSerializer.SerializeToUtf8Bytes(new BusRequestHeader(request.Operation, request.Deadline?.ToUnixTimeMilliseconds(), request.IdempotencyKey), BusJson.Default.BusRequestHeader);
        if (4 + header.Length + request.Body.Length > MaxMessageSize)
        {
            throw TooLarge(4 + header.Length + request.Body.Length, MaxMessageSize);
        }

        var id = Guid.NewGuid();
        var call = new PendingCall(this, id);
        if (request.Deadline is { } deadline)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            call.Timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        _calls[id] = call;
        if (_closed.IsCancellationRequested)
        {
            _calls.TryRemove(id, out _);
            throw Disconnected();
        }

        var payload = new byte[4 + header.Length + request.Body.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, header.Length);
        header.CopyTo(payload, 4);
        request.Body.Span.CopyTo(payload.AsSpan(4 + header.Length));
        using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Timeout.Token);
        try
        {
            await SendFrameAsync(FrameType.Request, id, payload, link.Token);
            return await call.Head.Task.WaitAsync(link.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && call.Timeout.IsCancellationRequested)
        {
            call.Abandon();
            throw new BusException(BusErrorKind.DeadlineExceeded, "deadline-exceeded", "The gateway did not answer before the deadline.");
        }
        catch
        {
            call.Abandon();
            throw;
        }
    }

    /// <summary>Sends a one-way message (hello, heartbeat) to the peer.</summary>
    public Task SendNoticeAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        SendFrameAsync(FrameType.Notice, Guid.Empty, payload, cancellationToken);

    /// <summary>Closes the socket politely (bounded wait) and fails every pending call.</summary>
    public async Task CloseAsync(string reason, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }

        Shutdown();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        Shutdown();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The error for a request over the size limit (shared by the transports).</summary>
    internal static BusException TooLarge(long size, int limit) =>
        new(BusErrorKind.MessageTooLarge, "message-too-large", $"The request is {size} bytes; the bus takes at most {limit} bytes per message. Nothing was sent.");

    private static BusException Disconnected() =>
        new(BusErrorKind.Disconnected, "disconnected", "The connection to the gateway member was lost before the response was complete.");

    private void Shutdown()
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        _closed.Cancel();
        foreach (var call in _calls.Values)
        {
            call.Fail(Disconnected());
        }

        _calls.Clear();
        _completed.TrySetResult();
    }

    private async Task DispatchBatchAsync(ReadOnlyMemory<byte> frames)
    {
        while (frames.Length > 0)
        {
            var length = frames.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(frames.Span) : -1;
            if (length < 17 || length > frames.Length - 4 || frames.Span[4] == (byte)FrameType.Batch)
            {
                throw new InvalidDataException("A batch of bus frames is malformed.");
            }

            var frame = frames.Slice(4, length);
            await DispatchAsync(frame.Span[0], new Guid(frame.Span.Slice(1, 16)), frame[17..].ToArray());
            frames = frames[(4 + length)..];
        }
    }

    private async Task DispatchAsync(byte type, Guid id, byte[] payload)
    {
        switch ((FrameType)type)
        {
            case FrameType.Request:
                StartIncoming(id, payload);
                break;
            case FrameType.Cancel:
                if (_incoming.TryGetValue(id, out var cancelled))
                {
                    try
                    {
                        cancelled.CancelledByCaller = true;
                        await cancelled.Cancellation.CancelAsync();
                    }
                    catch (ObjectDisposedException)
                    {
                        // It finished meanwhile.
                    }
                }

                break;
            case FrameType.Credit:
                if (_incoming.TryGetValue(id, out var credited) && payload.Length >= 4)
                {
                    try
                    {
                        credited.Credit.Release(BinaryPrimitives.ReadInt32BigEndian(payload));
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                }

                break;
            case FrameType.Notice:
                if (NoticeReceived is { } notice)
                {
                    await notice(payload);
                }

                break;
            default:
                if (_calls.TryGetValue(id, out var call))
                {
                    call.Receive((FrameType)type, payload);
                }

                break;
        }
    }

    private void StartIncoming(Guid id, byte[] payload)
    {
        var headerLength = BinaryPrimitives.ReadInt32BigEndian(payload);
        var header = JsonSerializer.Deserialize(payload.AsSpan(4, headerLength), BusJson.Default.BusRequestHeader)!;
        var deadline = header.Deadline is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
        var request = new BusIncomingRequest(id, header.Operation, payload.AsMemory(4 + headerLength), deadline, header.IdempotencyKey);
        var incoming = new IncomingCall(this, id, _closed.Token);
        if (deadline is { } d)
        {
            var left = d - DateTimeOffset.UtcNow;
            incoming.Cancellation.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        _incoming[id] = incoming;
        _ = Task.Run(() => HandleIncomingAsync(request, incoming));
    }

    private async Task HandleIncomingAsync(BusIncomingRequest request, IncomingCall call)
    {
        var token = call.Cancellation.Token;
        try
        {
            if (_handler is null)
            {
                throw new BusException("not-supported", "This peer does not accept requests.");
            }

            await _handler.HandleAsync(request, call, token);
            if (!call.Started)
            {
                await call.StartAsync(204, default, token);
            }

            await call.FinishAsync(token);
        }
        catch (Exception e)
        {
            var (code, message) = e switch
            {
                BusException bus => (bus.Code, bus.Message),
                // Neither the caller nor the connection cancelled: the deadline's timer did (the wall clock may not show it
                // passed yet, the timer and the millisecond deadline round differently).
                OperationCanceledException when request.Deadline is not null && !call.CancelledByCaller && !_closed.IsCancellationRequested =>
                    ("deadline-exceeded", "The request's deadline passed on the gateway."),
                OperationCanceledException => ("cancelled", "The request was cancelled."),
                _ => ("gateway-error", "The gateway failed to handle the request; the error is in the gateway's log."),
            };
            call.Failure = e is BusException ? null : e;
            try
            {
                // A head the handler started goes out first, as it would have without the coalescing.
                await call.SendHeadIfHeldAsync(CancellationToken.None);
                await SendFrameAsync(FrameType.Error, call.Id, JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(code, message), BusJson.Default.ErrorBody), CancellationToken.None);
            }
            catch (Exception send) when (send is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
        finally
        {
            _incoming.TryRemove(call.Id, out _);
            call.Dispose();
        }

        if (call.Failure is { } failure && UnhandledFailure is { } report)
        {
            report(request, failure);
        }
    }

    /// <summary>Called with handler exceptions that were reported to the peer only as a generic failure (for logging).</summary>
    public Action<BusIncomingRequest, Exception>? UnhandledFailure { get; set; }

    private Task SendFrameAsync(FrameType type, Guid id, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        Batching ? SendOrQueueAsync(type, id, payload, cancellationToken) : SendAloneAsync(type, id, payload, cancellationToken);

    /// <summary>
    /// With <see cref="Batching"/>: whoever finds no send under way sends its frame at once (no thread hop, no wait); a frame
    /// that arrives while a send is under way is queued, and the sender sends everything queued meanwhile as one
    /// <see cref="FrameType.Batch"/> message when it is done, so that under load one TLS record and one socket write carry
    /// many frames. A queued frame's sender returns at once: if the connection fails before it leaves, every call on the
    /// connection fails with Disconnected, as it would have had the send failed in front of it. Chunks stay bounded by
    /// their credit.
    /// </summary>
    private async Task SendOrQueueAsync(FrameType type, Guid id, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        // A frame is abandoned only before it is handed over: a send cut off half-way would break the connection for every call on it.
        cancellationToken.ThrowIfCancellationRequested();
        var frame = RentFrame(type, id, payload);
        lock (_queue)
        {
            if (_closed.IsCancellationRequested)
            {
                ArrayPool<byte>.Shared.Return(frame);
                throw Disconnected();
            }

            if (_writing)
            {
                _queue.Add(new QueuedFrame(frame, 17 + payload.Length));
                return;
            }

            _writing = true;
        }

        try
        {
            await _socket.SendAsync(frame.AsMemory(0, 17 + payload.Length), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            StopWriting();
            Shutdown();
            throw Disconnected();
        }
        catch
        {
            // Whatever else broke the send, the writer's place must not stay taken, or every later frame would wait forever.
            StopWriting();
            Shutdown();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }

        // A few rounds of what queued up meanwhile are sent here; a writer still busy after that hands over to the pool, so a
        // request's own work is not held up by its neighbours' frames under sustained load.
        for (var round = 0; round < 4; round++)
        {
            if (!await SendQueuedAsync())
            {
                return;
            }
        }

        _ = Task.Run(async () =>
        {
            while (await SendQueuedAsync())
            {
            }
        });
    }

    /// <summary>Sends what is queued (as one message when it fits); false when nothing was queued and the writer stood down.</summary>
    private async Task<bool> SendQueuedAsync()
    {
        List<QueuedFrame> frames;
        lock (_queue)
        {
            if (_queue.Count == 0 || _closed.IsCancellationRequested)
            {
                _writing = false;
                return false;
            }

            frames = [.. _queue];
            _queue.Clear();
        }

        var start = 0;
        try
        {
            while (start < frames.Count)
            {
                // One Batch message: type(1) | empty id(16) | (length(4) | frame) for each frame, up to the batch limit; a
                // frame that has no company within the limit goes alone, as an ordinary message.
                var end = start;
                var size = 17;
                while (end < frames.Count && size + 4 + frames[end].Length <= MaxBatchSize)
                {
                    size += 4 + frames[end].Length;
                    end++;
                }

                if (end - start <= 1)
                {
                    await _socket.SendAsync(frames[start].Buffer.AsMemory(0, frames[start].Length), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    start++;
                    continue;
                }

                var batch = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    batch[0] = (byte)FrameType.Batch;
                    Guid.Empty.TryWriteBytes(batch.AsSpan(1, 16));
                    var at = 17;
                    for (var i = start; i < end; i++)
                    {
                        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(at), frames[i].Length);
                        frames[i].Buffer.AsSpan(0, frames[i].Length).CopyTo(batch.AsSpan(at + 4));
                        at += 4 + frames[i].Length;
                    }

                    await _socket.SendAsync(batch.AsMemory(0, size), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(batch);
                }

                start = end;
            }

            return true;
        }
        catch (Exception)
        {
            // The connection is unusable whatever the failure was; the calls on it fail with Disconnected. Frames queued
            // here belong to senders that already returned, so there is no one else to tell.
            StopWriting();
            Shutdown();
            return false;
        }
        finally
        {
            foreach (var f in frames)
            {
                ArrayPool<byte>.Shared.Return(f.Buffer);
            }
        }
    }

    /// <summary>One frame, <c>type(1) | correlation id(16) | payload</c>, in a pooled buffer (return it when sent).</summary>
    private static byte[] RentFrame(FrameType type, Guid id, ReadOnlyMemory<byte> payload)
    {
        var frame = ArrayPool<byte>.Shared.Rent(17 + payload.Length);
        frame[0] = (byte)type;
        id.TryWriteBytes(frame.AsSpan(1, 16));
        payload.Span.CopyTo(frame.AsSpan(17));
        return frame;
    }

    private void StopWriting()
    {
        lock (_queue)
        {
            _writing = false;
            _queue.Clear();
        }
    }

    private async Task SendAloneAsync(FrameType type, Guid id, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = RentFrame(type, id, payload);
        try
        {
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                if (_closed.IsCancellationRequested)
                {
                    throw Disconnected();
                }

                await _socket.SendAsync(frame.AsMemory(0, 17 + payload.Length), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            }
            catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
            {
                Shutdown();
                throw Disconnected();
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private enum FrameType : byte
    {
        Request = 1,
        Head = 2,
        Chunk = 3,
        End = 4,
        Error = 5,
        Cancel = 6,
        Credit = 7,
        Notice = 8,

        /// <summary>Head, whole body and end of a small response in one frame: status(4) | head length(4) | head | body.</summary>
        Complete = 9,

        /// <summary>Several frames in one message (<see cref="Batching"/>): (length(4) | frame) repeated.</summary>
        Batch = 10,
    }

    private readonly record struct QueuedFrame(byte[] Buffer, int Length);


    /// <summary>A request this side sent; its response frames land here.</summary>
    private sealed class PendingCall(WebSocketBusConnection connection, Guid id) : IBusResponse
    {
        private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private int _consumedSinceCredit;
        private bool _finished;

        public TaskCompletionSource<IBusResponse> Head { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Timeout { get; } = new();

        public int Status { get; private set; }

        ReadOnlyMemory<byte> IBusResponse.Head => HeadBytes;

        public byte[] HeadBytes { get; private set; } = [];

        public Stream Body => field ??= new ChunkReadStream(ReadChunkAsync);

        public ReadOnlyMemory<byte>? WholeBody { get; private set; }

        public void Receive(FrameType type, byte[] payload)
        {
            switch (type)
            {
                case FrameType.Head:
                    Status = BinaryPrimitives.ReadInt32BigEndian(payload);
                    HeadBytes = payload[4..];
                    Head.TrySetResult(this);
                    break;
                case FrameType.Chunk:
                    _chunks.Writer.TryWrite(payload);
                    break;
                case FrameType.Complete:
                    var headLength = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4));
                    WholeBody = payload.AsMemory(8 + headLength);
                    if (payload.Length > 8 + headLength)
                    {
                        _chunks.Writer.TryWrite(payload[(8 + headLength)..]);
                    }

                    _finished = true;
                    _chunks.Writer.TryComplete();
                    Status = BinaryPrimitives.ReadInt32BigEndian(payload);
                    HeadBytes = payload.AsSpan(8, headLength).ToArray();
                    Head.TrySetResult(this);
                    Forget();
                    break;
                case FrameType.End:
                    _finished = true;
                    _chunks.Writer.TryComplete();
                    Forget();
                    break;
                case FrameType.Error:
                    var error = JsonSerializer.Deserialize(payload, BusJson.Default.ErrorBody);
                    var kind = error?.Code switch
                    {
                        "deadline-exceeded" => BusErrorKind.DeadlineExceeded,
                        "busy" => BusErrorKind.Busy,
                        _ => BusErrorKind.Remote,
                    };
                    Fail(new BusException(kind, error?.Code ?? "gateway-error", error?.Message ?? "The gateway failed the request."));
                    Forget();
                    break;
                default:
                    break;
            }
        }

        public void Fail(BusException error)
        {
            if (!Head.TrySetException(error))
            {
                _chunks.Writer.TryComplete(new IOException($"The response was cut short: {error.Message}", error));
            }
        }

        public void Abandon()
        {
            if (!_finished && connection._calls.TryRemove(id, out _) && !connection._closed.IsCancellationRequested)
            {
                _ = connection.SendFrameAsync(FrameType.Cancel, id, default, CancellationToken.None).ContinueWith(
                    t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            Fail(new BusException(BusErrorKind.Remote, "cancelled", "The request was cancelled."));
        }

        public async ValueTask<byte[]?> ReadChunkAsync(CancellationToken cancellationToken)
        {
            using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Timeout.Token);
            try
            {
                if (!await _chunks.Reader.WaitToReadAsync(link.Token))
                {
                    return null;
                }
            }
            catch (OperationCanceledException) when (Timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                Abandon();
                throw new IOException("The response was cut short: the deadline passed.");
            }

            _chunks.Reader.TryRead(out var chunk);
            if (++_consumedSinceCredit >= InitialCredit / 2 && !_finished)
            {
                var credit = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(credit, _consumedSinceCredit);
                _consumedSinceCredit = 0;
                try
                {
                    await connection.SendFrameAsync(FrameType.Credit, id, credit, cancellationToken);
                }
                catch (BusException)
                {
                    // The connection is gone; the channel is completed with the reason, the next read reports it.
                }
            }

            return chunk;
        }

        public ValueTask DisposeAsync()
        {
            Abandon();
            Timeout.Dispose();
            return ValueTask.CompletedTask;
        }

        private void Forget() => connection._calls.TryRemove(id, out _);
    }

    /// <summary>A request this side is handling; it is also the response writer.</summary>
    private sealed class IncomingCall : IBusResponseWriter, IDisposable
    {
        private readonly WebSocketBusConnection _connection;
        private readonly HeldHead _held = new();

        /// <summary>The caller sent a cancel for this request.</summary>
        public volatile bool CancelledByCaller;

        public IncomingCall(WebSocketBusConnection connection, Guid id, CancellationToken closed)
        {
            _connection = connection;
            Id = id;
            Cancellation = CancellationTokenSource.CreateLinkedTokenSource(closed);
            Stream = new ChunkWriteStream(SendChunkAsync);
        }

        public Guid Id { get; }

        public CancellationTokenSource Cancellation { get; }

        public SemaphoreSlim Credit { get; } = new(InitialCredit);

        public bool Started => _held.Started;

        public Exception? Failure { get; set; }

        public ChunkWriteStream Stream { get; }

        Stream IBusResponseWriter.Body => Stream;

        public Task StartAsync(int status, ReadOnlyMemory<byte> head, CancellationToken cancellationToken)
        {
            _held.Start(status, head, cancellationToken);
            return Task.CompletedTask;
        }

        /// <summary>Sends the head the handler started, if it is still held.</summary>
        public async Task SendHeadIfHeldAsync(CancellationToken cancellationToken)
        {
            if (!_held.TryRelease())
            {
                return;
            }

            var head = _held.Head;
            var payload = new byte[4 + head.Length];
            BinaryPrimitives.WriteInt32BigEndian(payload, _held.Status);
            head.CopyTo(payload.AsSpan(4));
            await _connection.SendFrameAsync(FrameType.Head, Id, payload, cancellationToken);
        }

        /// <summary>Ends the response: one Complete frame when nothing was sent yet, otherwise the last chunk and End.</summary>
        public async Task FinishAsync(CancellationToken cancellationToken)
        {
            if (_held.TryRelease())
            {
                var head = _held.Head;
                var body = Stream.Pending;
                var payload = new byte[8 + head.Length + body.Length];
                BinaryPrimitives.WriteInt32BigEndian(payload, _held.Status);
                BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), head.Length);
                head.CopyTo(payload.AsSpan(8));
                body.CopyTo(payload.AsSpan(8 + head.Length));
                Stream.Clear();
                await _connection.SendFrameAsync(FrameType.Complete, Id, payload, cancellationToken);
                return;
            }

            await Stream.FlushPendingAsync(cancellationToken);
            await _connection.SendFrameAsync(FrameType.End, Id, default, cancellationToken);
        }

        public async Task SendChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            if (!Started)
            {
                await StartAsync(200, default, cancellationToken);
            }

            using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Cancellation.Token);
            await SendHeadIfHeldAsync(link.Token);
            await Credit.WaitAsync(link.Token);
            await _connection.SendFrameAsync(FrameType.Chunk, Id, chunk, link.Token);
        }

        public void Dispose()
        {
            Cancellation.Dispose();
            Credit.Dispose();
            Stream.Dispose();
        }
    }

}

/// <summary>Helpers for JSON notices.</summary>
public static class BusNotices
{
    /// <summary>Serializes a notice body.</summary>
    public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Reads a notice body.</summary>
    public static T? Decode<T>(ReadOnlyMemory<byte> value) => JsonSerializer.Deserialize<T>(value.Span, Options);

    /// <summary>Text of a body (for error messages and tests).</summary>
    public static string Text(ReadOnlyMemory<byte> value) => Encoding.UTF8.GetString(value.Span);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
