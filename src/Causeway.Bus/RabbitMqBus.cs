using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Causeway.Bus;

/// <summary>Settings of the RabbitMQ transport (both sides).</summary>
public sealed class RabbitMqBusOptions
{
    /// <summary>The broker, with the user name, password and virtual host: <c>amqp://user:password@host:5672/vhost</c> (or <c>amqps://</c>).</summary>
    public required Uri Uri { get; init; }

    /// <summary>The largest request (body and headers) sent or accepted; larger requests are refused before they are sent.</summary>
    public int MaxMessageSize { get; init; } = WebSocketBusConnection.DefaultMaxMessageSize;

    /// <summary>How often a caller checks that the member streaming a response to it still exists.</summary>
    public TimeSpan PeerCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the client waits between attempts to reconnect to the broker.</summary>
    public TimeSpan RecoveryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The connection name the broker shows.</summary>
    public string ClientName { get; init; } = "causeway";

    internal ConnectionFactory CreateFactory() => new()
    {
        Uri = Uri,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = RecoveryInterval,
        RequestedHeartbeat = TimeSpan.FromSeconds(10),
        ClientProvidedName = ClientName,
        MaxInboundMessageBodySize = (uint)MaxMessageSize + (1024 * 1024),
    };
}

/// <summary>Names and wire format shared by <see cref="RabbitMqBusClient"/> and <see cref="RabbitMqBusListener"/>.</summary>
/// <remarks>
/// Requests go to a work queue (one per gateway cluster) whose consumers compete; each message's <c>reply-to</c> names
/// the caller's exclusive reply queue, bound to <see cref="RepliesExchange"/>. The member that takes a request first
/// answers <c>accepted</c> with its own exclusive control queue (bound to <see cref="ControlExchange"/>), where the
/// caller sends <c>credit</c>, <c>cancel</c> and <c>ping</c>. Message types are in the AMQP <c>type</c> property, the
/// correlation id in <c>correlation-id</c>. A member holds the head of an answer until its first chunk, its end or its
/// error: an answer complete before any chunk left (head and a body within one chunk) travels as one <c>complete</c>
/// message (headers <c>status</c> and <c>head-length</c>; body = head, then body) instead of head, chunk and end.
/// </remarks>
public static class RabbitMqBusTopology
{
    /// <summary>Direct exchange: routing key = a caller's reply queue.</summary>
    public const string RepliesExchange = "causeway.bus.replies";

    /// <summary>Direct exchange: routing key = a member's control queue.</summary>
    public const string ControlExchange = "causeway.bus.control";

    internal const string Request = "request";
    internal const string Accepted = "accepted";
    internal const string Head = "head";
    internal const string Chunk = "chunk";
    internal const string End = "end";
    internal const string Complete = "complete";
    internal const string Error = "error";
    internal const string Cancel = "cancel";
    internal const string Credit = "credit";
    internal const string Ping = "ping";

    /// <summary>Declares the two exchanges (durable, so they survive a broker restart). Needs configure permission on them.</summary>
    public static async Task DeclareExchangesAsync(IChannel channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        await channel.ExchangeDeclareAsync(RepliesExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(ControlExchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
    }

    /// <summary>Declares a work queue the same way on both sides (durable definition; messages are transient).</summary>
    internal static Task DeclareWorkQueueAsync(IChannel channel, string queue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken);

    internal static string? Text(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        } : null;

    internal static long? Number(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true ? value switch
        {
            int i => i,
            long l => l,
            short s => s,
            byte b => b,
            _ => null,
        } : null;

    internal static bool IsConnectionFailure(Exception e) =>
        e is OperationInterruptedException or IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException;
}

/// <summary>
/// The caller's side of the RabbitMQ bus: publishes requests to a work queue and reads the answers from its own
/// exclusive reply queue. Reconnects by itself after the broker restarts (requests in flight then fail with
/// <see cref="BusErrorKind.Disconnected"/>; new ones succeed once the connection is back). Thread-safe.
/// </summary>
/// <remarks>
/// Back-pressure is the same credit scheme as the WebSocket transport: a member may have at most
/// <see cref="WebSocketBusConnection.InitialCredit"/> chunks of a response on their way; the caller grants more as its
/// reader consumes them, so the per-response buffer here is bounded. A member that vanishes while streaming is noticed
/// by a ping to its exclusive control queue that the broker returns as unroutable; the reader then gets an
/// <see cref="IOException"/>.
/// </remarks>
public sealed class RabbitMqBusClient : IAsyncDisposable
{
    private readonly RabbitMqBusOptions _options;
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly SemaphoreSlim _publishLock = new(1, 1);
    private readonly ConcurrentDictionary<Guid, Call> _calls = new();
    private readonly ConcurrentDictionary<string, Lazy<Task>> _declared = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pinger;

    private RabbitMqBusClient(RabbitMqBusOptions options, IConnection connection, IChannel channel, string replyQueue)
    {
        _options = options;
        _connection = connection;
        _channel = channel;
        ReplyQueue = replyQueue;
        _connection.ConnectionShutdownAsync += (_, _) =>
        {
            // Work queues may be gone after a broker restart; declare again on the next request.
            _declared.Clear();
            FailAll(Disconnected("The connection to the message broker was lost."));
            return Task.CompletedTask;
        };
        _channel.BasicReturnAsync += OnReturnAsync;
        _pinger = Task.Run(PingLoopAsync);
    }

    /// <summary>This client's exclusive reply queue.</summary>
    public string ReplyQueue { get; }

    /// <summary>True while the connection to the broker is open.</summary>
    public bool IsConnected => _connection.IsOpen;

    /// <summary>Requests waiting for or streaming their response.</summary>
    public int Pending => _calls.Count;

    /// <summary>Connects, declares the exchanges and the reply queue, and starts consuming replies.</summary>
    /// <exception cref="BrokerUnreachableException">The broker does not answer or refuses the credentials.</exception>
    public static async Task<RabbitMqBusClient> ConnectAsync(RabbitMqBusOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connection = await options.CreateFactory().CreateConnectionAsync(cancellationToken);
        try
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await RabbitMqBusTopology.DeclareExchangesAsync(channel, cancellationToken);
            var replyQueue = $"causeway.bus.reply.{Guid.NewGuid():N}";
            await channel.QueueDeclareAsync(replyQueue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(replyQueue, RabbitMqBusTopology.RepliesExchange, replyQueue, cancellationToken: cancellationToken);
            var client = new RabbitMqBusClient(options, connection, channel, replyQueue);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += client.OnReplyAsync;
            await channel.BasicConsumeAsync(replyQueue, autoAck: true, consumer, cancellationToken);
            return client;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>An <see cref="IBusClient"/> that sends every request to <paramref name="queue"/>.</summary>
    public IBusClient For(string queue) => new QueueClient(this, queue);

    /// <summary>Sends a request to the work queue <paramref name="queue"/> (declared on first use) and waits for the head of its answer.</summary>
    public async Task<IBusResponse> SendAsync(string queue, BusRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(request);
        var headerSize = Encoding.UTF8.GetByteCount(request.Operation) + Encoding.UTF8.GetByteCount(request.IdempotencyKey ?? "") + 64;
        if (headerSize + request.Body.Length > _options.MaxMessageSize)
        {
            throw WebSocketBusConnection.TooLarge(headerSize + request.Body.Length, _options.MaxMessageSize);
        }

        var id = Guid.NewGuid();
        var call = new Call(this, id, request.Deadline);
        _calls[id] = call;
        var headers = new Dictionary<string, object?> { ["operation"] = request.Operation };
        var properties = new BasicProperties { Type = RabbitMqBusTopology.Request, CorrelationId = id.ToString("N"), ReplyTo = ReplyQueue, Headers = headers };
        if (request.IdempotencyKey is { } key)
        {
            headers["idempotency-key"] = key;
        }

        if (request.Deadline is { } deadline)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            call.Timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            headers["deadline"] = deadline.ToUnixTimeMilliseconds();
        }

        using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Timeout.Token);
        try
        {
            await DeclareAsync(queue, link.Token);
            if (request.Deadline is { } expires)
            {
                // A request nobody picked up before its deadline expires in the queue instead of running late.
                var left = Math.Max(0, (long)Math.Ceiling((expires - DateTimeOffset.UtcNow).TotalMilliseconds));
                properties.Expiration = left.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await PublishAsync("", queue, properties, request.Body, link.Token);
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

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        FailAll(Disconnected("The bus client was closed."));
        try
        {
            await _pinger;
            await _connection.CloseAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (RabbitMqBusTopology.IsConnectionFailure(e) || e is OperationCanceledException)
        {
        }

        _connection.Dispose();
        _stop.Dispose();
    }

    private static BusException Disconnected(string why) =>
        new(BusErrorKind.Disconnected, "disconnected", $"{why} The response was not complete.");

    private Task DeclareAsync(string queue, CancellationToken cancellationToken)
    {
        var lazy = _declared.GetOrAdd(queue, q => new Lazy<Task>(() => DeclareCoreAsync(q)));
        return lazy.Value.WaitAsync(cancellationToken);

        async Task DeclareCoreAsync(string name)
        {
            try
            {
                await RabbitMqBusTopology.DeclareWorkQueueAsync(_channel, name, CancellationToken.None);
            }
            catch (Exception e)
            {
                _declared.TryRemove(name, out _);
                throw RabbitMqBusTopology.IsConnectionFailure(e) ? Disconnected("The message broker cannot be reached.") : e;
            }
        }
    }

    private async Task PublishAsync(string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await _publishLock.WaitAsync(cancellationToken);
        try
        {
            await _channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body, cancellationToken);
        }
        catch (Exception e) when (RabbitMqBusTopology.IsConnectionFailure(e))
        {
            throw Disconnected("The message broker cannot be reached.");
        }
        finally
        {
            _publishLock.Release();
        }
    }

    private async Task SendControlAsync(string controlQueue, string type, Guid id, int? credit)
    {
        var properties = new BasicProperties { Type = type, CorrelationId = id.ToString("N") };
        if (credit is { } n)
        {
            properties.Headers = new Dictionary<string, object?> { ["credit"] = n };
        }

        try
        {
            await PublishAsync(RabbitMqBusTopology.ControlExchange, controlQueue, properties, default, CancellationToken.None);
        }
        catch (BusException)
        {
            // The connection is gone; every call fails with that reason.
        }
    }

    private Task OnReplyAsync(object sender, BasicDeliverEventArgs e)
    {
        if (Guid.TryParse(e.BasicProperties.CorrelationId, out var id) && _calls.TryGetValue(id, out var call))
        {
            call.Receive(e.BasicProperties, e.Body);
        }

        return Task.CompletedTask;
    }

    private Task OnReturnAsync(object sender, BasicReturnEventArgs e)
    {
        if (e.Exchange == RabbitMqBusTopology.ControlExchange)
        {
            // The member's control queue is gone: the member (or its connection) went away.
            foreach (var call in _calls.Values.Where(c => c.ControlQueue == e.RoutingKey))
            {
                call.Fail(Disconnected("The gateway member handling the request went away."));
            }
        }
        else if (Guid.TryParse(e.BasicProperties.CorrelationId, out var id) && _calls.TryGetValue(id, out var call))
        {
            call.Fail(Disconnected($"The request could not be routed ({e.ReplyText})."));
        }

        return Task.CompletedTask;
    }

    private void FailAll(BusException error)
    {
        foreach (var call in _calls.Values)
        {
            call.Fail(error);
        }

        _calls.Clear();
    }

    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.PeerCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var now = DateTimeOffset.UtcNow;
                foreach (var call in _calls.Values.Where(c => c.Abandoned && now - c.Created > TimeSpan.FromMinutes(2)))
                {
                    _calls.TryRemove(call.Id, out _);
                }

                if (!_connection.IsOpen)
                {
                    continue;
                }

                foreach (var queue in _calls.Values.Where(c => !c.Abandoned).Select(c => c.ControlQueue).OfType<string>().Distinct(StringComparer.Ordinal))
                {
                    await SendControlAsync(queue, RabbitMqBusTopology.Ping, Guid.Empty, null);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class QueueClient(RabbitMqBusClient client, string queue) : IBusClient
    {
        public Task<IBusResponse> SendAsync(BusRequest request, CancellationToken cancellationToken) => client.SendAsync(queue, request, cancellationToken);
    }

    /// <summary>A request sent; its answer arrives here.</summary>
    private sealed class Call(RabbitMqBusClient client, Guid id, DateTimeOffset? deadline) : IBusResponse
    {
        private readonly System.Threading.Channels.Channel<byte[]> _chunks = System.Threading.Channels.Channel.CreateBounded<byte[]>(
            new System.Threading.Channels.BoundedChannelOptions(WebSocketBusConnection.InitialCredit + 1) { SingleReader = true, SingleWriter = true });

        private int _consumedSinceCredit;
        private volatile bool _finished;
        private volatile bool _abandoned;

        public Guid Id { get; } = id;

        public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

        public DateTimeOffset? Deadline { get; } = deadline;

        public volatile string? ControlQueue;

        public bool Abandoned => _abandoned;

        public TaskCompletionSource<IBusResponse> Head { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Timeout { get; } = new();

        public int Status { get; private set; }

        ReadOnlyMemory<byte> IBusResponse.Head => HeadBytes;

        public byte[] HeadBytes { get; private set; } = [];

        public Stream Body => field ??= new ChunkReadStream(ReadChunkAsync);

        public ReadOnlyMemory<byte>? WholeBody { get; private set; }

        public void Receive(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
        {
            switch (properties.Type)
            {
                case RabbitMqBusTopology.Accepted:
                    ControlQueue = properties.ReplyTo;
                    if (_abandoned && ControlQueue is { } queue)
                    {
                        // Cancelled before the member said who it was: tell it now.
                        client._calls.TryRemove(Id, out _);
                        _ = client.SendControlAsync(queue, RabbitMqBusTopology.Cancel, Id, null);
                    }

                    break;
                case RabbitMqBusTopology.Head:
                    Status = (int)(RabbitMqBusTopology.Number(properties, "status") ?? 200);
                    HeadBytes = body.ToArray();
                    Head.TrySetResult(this);
                    break;
                case RabbitMqBusTopology.Chunk:
                    if (!_chunks.Writer.TryWrite(body.ToArray()))
                    {
                        // More than the credit allows: the member does not follow the protocol.
                        Fail(new BusException(BusErrorKind.Remote, "protocol-error", "The gateway member sent more than the granted credit."));
                        client._calls.TryRemove(Id, out _);
                    }

                    break;
                case RabbitMqBusTopology.End:
                    _finished = true;
                    _chunks.Writer.TryComplete();
                    client._calls.TryRemove(Id, out _);
                    break;
                case RabbitMqBusTopology.Complete:
                    var headLength = (int)Math.Clamp(RabbitMqBusTopology.Number(properties, "head-length") ?? 0, 0, body.Length);
                    var whole = body[headLength..].ToArray();
                    WholeBody = whole;
                    if (whole.Length > 0)
                    {
                        _chunks.Writer.TryWrite(whole);
                    }

                    _finished = true;
                    _chunks.Writer.TryComplete();
                    client._calls.TryRemove(Id, out _);
                    Status = (int)(RabbitMqBusTopology.Number(properties, "status") ?? 200);
                    HeadBytes = body[..headLength].ToArray();
                    Head.TrySetResult(this);
                    break;
                case RabbitMqBusTopology.Error:
                    var error = JsonSerializer.Deserialize(body.Span, BusJson.Default.ErrorBody);
                    var kind = error?.Code switch
                    {
                        "deadline-exceeded" => BusErrorKind.DeadlineExceeded,
                        "busy" => BusErrorKind.Busy,
                        "member-lost" => BusErrorKind.Disconnected,
                        "message-too-large" => BusErrorKind.MessageTooLarge,
                        _ => BusErrorKind.Remote,
                    };
                    _finished = true;
                    Fail(new BusException(kind, error?.Code ?? "gateway-error", error?.Message ?? "The gateway failed the request."));
                    client._calls.TryRemove(Id, out _);
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
            if (!_finished)
            {
                if (ControlQueue is { } queue)
                {
                    client._calls.TryRemove(Id, out _);
                    _ = client.SendControlAsync(queue, RabbitMqBusTopology.Cancel, Id, null);
                }
                else
                {
                    // Keep the entry: when the member's "accepted" arrives, it is told to stop.
                    _abandoned = true;
                }
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
            if (++_consumedSinceCredit >= WebSocketBusConnection.InitialCredit / 2 && !_finished && ControlQueue is { } queue)
            {
                var credit = _consumedSinceCredit;
                _consumedSinceCredit = 0;
                await client.SendControlAsync(queue, RabbitMqBusTopology.Credit, Id, credit);
            }

            return chunk;
        }

        public ValueTask DisposeAsync()
        {
            Abandon();
            Timeout.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// The member's side of the RabbitMQ bus: consumes a work queue as one of its competing consumers and serves each request
/// with an <see cref="IBusHandler"/>. At most <c>concurrency</c> requests run at once (the consumer's prefetch); a consumer
/// with a higher <c>priority</c> gets requests first, lower ones only when it is full. A request is acknowledged when its
/// answer is complete; one redelivered because an earlier member died with it is refused (<c>member-lost</c>) instead of
/// run a second time. Reconnects by itself after the broker restarts. Thread-safe.
/// </summary>
public sealed class RabbitMqBusListener : IAsyncDisposable
{
    private readonly RabbitMqBusOptions _options;
    private readonly IConnection _connection;
    private readonly IChannel _consume;
    private readonly IChannel _publish;
    private readonly IBusHandler _handler;
    private readonly SemaphoreSlim _publishLock = new(1, 1);
    private readonly ConcurrentDictionary<Guid, Incoming> _incoming = new();
    private readonly CancellationTokenSource _stop = new();
    private int _generation;

    private RabbitMqBusListener(RabbitMqBusOptions options, IConnection connection, IChannel consume, IChannel publish, IBusHandler handler, string controlQueue)
    {
        _options = options;
        _connection = connection;
        _consume = consume;
        _publish = publish;
        _handler = handler;
        ControlQueue = controlQueue;
        _connection.ConnectionShutdownAsync += (_, _) =>
        {
            // Delivery tags of the old channel are void, and answers cannot reach the callers: stop every handler.
            Interlocked.Increment(ref _generation);
            CancelAll();
            return Task.CompletedTask;
        };
        _publish.BasicReturnAsync += (_, e) =>
        {
            // The caller's reply queue is gone (the caller went away): stop the work done for it.
            foreach (var call in _incoming.Values.Where(c => c.ReplyTo == e.RoutingKey))
            {
                call.TryCancel();
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>This member's exclusive control queue.</summary>
    public string ControlQueue { get; }

    /// <summary>Requests being handled now.</summary>
    public int ActiveIncoming => _incoming.Count;

    /// <summary>True while the connection to the broker is open.</summary>
    public bool IsConnected => _connection.IsOpen;

    /// <summary>Called with handler exceptions that were reported to the caller only as a generic failure (for logging).</summary>
    public Action<BusIncomingRequest, Exception>? UnhandledFailure { get; set; }

    /// <summary>Connects and starts consuming <paramref name="queue"/>.</summary>
    /// <param name="options">The broker and limits.</param>
    /// <param name="queue">The work queue (declared if missing).</param>
    /// <param name="controlQueuePrefix">Prefix of this member's exclusive control queue (broker permissions can be scoped to it).</param>
    /// <param name="handler">Serves the requests.</param>
    /// <param name="concurrency">Requests handled at once.</param>
    /// <param name="priority">Consumer priority: higher first.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <exception cref="BrokerUnreachableException">The broker does not answer or refuses the credentials.</exception>
    /// <exception cref="OperationInterruptedException">The user may not use the queue or the exchanges (or the server has not declared them yet).</exception>
    public static async Task<RabbitMqBusListener> StartAsync(RabbitMqBusOptions options, string queue, string controlQueuePrefix, IBusHandler handler,
        ushort concurrency, int priority, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(handler);
        var connection = await options.CreateFactory().CreateConnectionAsync(cancellationToken);
        try
        {
            var consume = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var publish = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await consume.ExchangeDeclarePassiveAsync(RabbitMqBusTopology.RepliesExchange, cancellationToken);
            await consume.ExchangeDeclarePassiveAsync(RabbitMqBusTopology.ControlExchange, cancellationToken);
            await RabbitMqBusTopology.DeclareWorkQueueAsync(consume, queue, cancellationToken);
            var controlQueue = controlQueuePrefix + Guid.NewGuid().ToString("N");
            await consume.QueueDeclareAsync(controlQueue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);
            await consume.QueueBindAsync(controlQueue, RabbitMqBusTopology.ControlExchange, controlQueue, cancellationToken: cancellationToken);
            await consume.BasicQosAsync(0, Math.Max((ushort)1, concurrency), global: false, cancellationToken);
            var listener = new RabbitMqBusListener(options, connection, consume, publish, handler, controlQueue);
            var control = new AsyncEventingBasicConsumer(consume);
            control.ReceivedAsync += listener.OnControlAsync;
            await consume.BasicConsumeAsync(controlQueue, autoAck: true, control, cancellationToken);
            var requests = new AsyncEventingBasicConsumer(consume);
            requests.ReceivedAsync += listener.OnRequestAsync;
            await consume.BasicConsumeAsync(queue, autoAck: false, consumerTag: "", noLocal: false, exclusive: false,
                arguments: new Dictionary<string, object?> { ["x-priority"] = priority }, requests, cancellationToken);
            return listener;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Drops the connection at once, as a killed process would (for tests of a member vanishing).</summary>
    public async Task AbortAsync()
    {
        await _stop.CancelAsync();
        await _connection.AbortAsync();
        CancelAll();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            CancelAll();
            try
            {
                await _connection.CloseAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (RabbitMqBusTopology.IsConnectionFailure(e) || e is OperationCanceledException)
            {
            }
        }

        _connection.Dispose();
    }

    private void CancelAll()
    {
        foreach (var call in _incoming.Values)
        {
            call.TryCancel();
        }
    }

    private async Task OnRequestAsync(object sender, BasicDeliverEventArgs e)
    {
        var properties = e.BasicProperties;
        var generation = Volatile.Read(ref _generation);
        if (!Guid.TryParse(properties.CorrelationId, out var id) || string.IsNullOrEmpty(properties.ReplyTo) || properties.Type != RabbitMqBusTopology.Request)
        {
            await AckAsync(e.DeliveryTag, generation);
            return;
        }

        var replyTo = properties.ReplyTo;
        if (e.Redelivered)
        {
            // Another member took it and vanished: it may have run. Refuse instead of running it twice.
            await SendErrorAsync(replyTo, id, "member-lost", "The gateway member that took the request went away; retry it.");
            await AckAsync(e.DeliveryTag, generation);
            return;
        }

        if (e.Body.Length > _options.MaxMessageSize)
        {
            await SendErrorAsync(replyTo, id, "message-too-large", $"The request is {e.Body.Length} bytes; this gateway takes at most {_options.MaxMessageSize}.");
            await AckAsync(e.DeliveryTag, generation);
            return;
        }

        var deadline = RabbitMqBusTopology.Number(properties, "deadline") is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
        if (deadline <= DateTimeOffset.UtcNow)
        {
            // Arrived too late (the broker drops expired requests only when they reach the head of the queue): never start it.
            await SendErrorAsync(replyTo, id, "deadline-exceeded", "The request's deadline passed before a gateway member took it.");
            await AckAsync(e.DeliveryTag, generation);
            return;
        }

        var request = new BusIncomingRequest(id, RabbitMqBusTopology.Text(properties, "operation") ?? "", e.Body.ToArray(), deadline,
            RabbitMqBusTopology.Text(properties, "idempotency-key"));
        var call = new Incoming(this, id, replyTo, e.DeliveryTag, generation, _stop.Token);
        if (deadline is { } d)
        {
            var left = d - DateTimeOffset.UtcNow;
            call.Cancellation.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }

        _incoming[id] = call;
        try
        {
            await PublishAsync(replyTo, new BasicProperties { Type = RabbitMqBusTopology.Accepted, CorrelationId = properties.CorrelationId, ReplyTo = ControlQueue }, default, CancellationToken.None);
        }
        catch (BusException)
        {
            // The connection dropped; the handler below sees its token cancelled.
        }

        _ = Task.Run(() => HandleAsync(request, call));
    }

    private Task OnControlAsync(object sender, BasicDeliverEventArgs e)
    {
        if (!Guid.TryParse(e.BasicProperties.CorrelationId, out var id) || !_incoming.TryGetValue(id, out var call))
        {
            return Task.CompletedTask;
        }

        switch (e.BasicProperties.Type)
        {
            case RabbitMqBusTopology.Cancel:
                call.TryCancel();
                break;
            case RabbitMqBusTopology.Credit when RabbitMqBusTopology.Number(e.BasicProperties, "credit") is { } n && n is > 0 and <= WebSocketBusConnection.InitialCredit * 2:
                try
                {
                    call.Credit.Release((int)n);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or SemaphoreFullException)
                {
                }

                break;
            default:
                break;
        }

        return Task.CompletedTask;
    }

    private async Task HandleAsync(BusIncomingRequest request, Incoming call)
    {
        var token = call.Cancellation.Token;
        try
        {
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
                // Nothing cancelled it but the deadline's timer (the wall clock may not show the deadline passed yet: the timer
                // and the millisecond deadline round differently).
                OperationCanceledException when request.Deadline is not null && !call.CancelledOnPurpose && !_stop.IsCancellationRequested =>
                    ("deadline-exceeded", "The request's deadline passed on the gateway."),
                OperationCanceledException => ("cancelled", "The request was cancelled."),
                _ => ("gateway-error", "The gateway failed to handle the request; the error is in the gateway's log."),
            };
            if (e is not BusException and not OperationCanceledException && UnhandledFailure is { } report)
            {
                report(request, e);
            }

            try
            {
                // A head the handler started goes out first, as it would have without the holding.
                await call.SendHeadIfHeldAsync(CancellationToken.None);
            }
            catch (BusException)
            {
            }

            await SendErrorAsync(call.ReplyTo, request.CorrelationId, code, message);
        }
        finally
        {
            _incoming.TryRemove(call.Id, out _);
            await AckAsync(call.DeliveryTag, call.Generation);
            call.Dispose();
        }
    }

    private async Task SendErrorAsync(string replyTo, Guid id, string code, string message)
    {
        try
        {
            await PublishAsync(replyTo, new BasicProperties { Type = RabbitMqBusTopology.Error, CorrelationId = id.ToString("N") },
                JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(code, message), BusJson.Default.ErrorBody), CancellationToken.None);
        }
        catch (BusException)
        {
        }
    }

    private async Task AckAsync(ulong tag, int generation)
    {
        if (generation != Volatile.Read(ref _generation) || _stop.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _consume.BasicAckAsync(tag, multiple: false);
        }
        catch (Exception e) when (RabbitMqBusTopology.IsConnectionFailure(e))
        {
        }
    }

    private async Task PublishAsync(string replyTo, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await _publishLock.WaitAsync(cancellationToken);
        try
        {
            await _publish.BasicPublishAsync(RabbitMqBusTopology.RepliesExchange, replyTo, mandatory: true, properties, body, cancellationToken);
        }
        catch (Exception e) when (RabbitMqBusTopology.IsConnectionFailure(e))
        {
            throw new BusException(BusErrorKind.Disconnected, "disconnected", "The connection to the message broker was lost.");
        }
        finally
        {
            _publishLock.Release();
        }
    }

    /// <summary>A request being handled; also its response writer.</summary>
    private sealed class Incoming : IBusResponseWriter, IDisposable
    {
        private readonly RabbitMqBusListener _listener;
        private readonly HeldHead _held = new();
        private bool _cancelledOnPurpose;

        public Incoming(RabbitMqBusListener listener, Guid id, string replyTo, ulong deliveryTag, int generation, CancellationToken stop)
        {
            _listener = listener;
            Id = id;
            ReplyTo = replyTo;
            DeliveryTag = deliveryTag;
            Generation = generation;
            Cancellation = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Stream = new ChunkWriteStream(SendChunkAsync);
        }

        public Guid Id { get; }

        public string ReplyTo { get; }

        public ulong DeliveryTag { get; }

        public int Generation { get; }

        public CancellationTokenSource Cancellation { get; }

        public SemaphoreSlim Credit { get; } = new(WebSocketBusConnection.InitialCredit, WebSocketBusConnection.InitialCredit * 4);

        public bool Started => _held.Started;

        public ChunkWriteStream Stream { get; }

        Stream IBusResponseWriter.Body => Stream;

        /// <summary>Set when a cancel message, a lost connection or a vanished caller stopped the call, rather than its deadline.</summary>
        public bool CancelledOnPurpose => Volatile.Read(ref _cancelledOnPurpose);

        public void TryCancel()
        {
            Volatile.Write(ref _cancelledOnPurpose, true);
            try
            {
                Cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        public Task StartAsync(int status, ReadOnlyMemory<byte> head, CancellationToken cancellationToken)
        {
            _held.Start(status, head, cancellationToken);
            return Task.CompletedTask;
        }

        /// <summary>Publishes the head the handler started, if it is still held.</summary>
        public async Task SendHeadIfHeldAsync(CancellationToken cancellationToken)
        {
            if (!_held.TryRelease())
            {
                return;
            }

            await _listener.PublishAsync(ReplyTo, new BasicProperties
            {
                Type = RabbitMqBusTopology.Head,
                CorrelationId = Id.ToString("N"),
                Headers = new Dictionary<string, object?> { ["status"] = _held.Status },
            }, _held.Head, cancellationToken);
        }

        /// <summary>Ends the answer: one <c>complete</c> message when nothing was sent yet, otherwise the last chunk and <c>end</c>.</summary>
        public async Task FinishAsync(CancellationToken cancellationToken)
        {
            if (_held.TryRelease())
            {
                var head = _held.Head;
                var body = Stream.Pending;
                var payload = new byte[head.Length + body.Length];
                head.CopyTo(payload, 0);
                body.CopyTo(payload.AsSpan(head.Length));
                Stream.Clear();
                await _listener.PublishAsync(ReplyTo, new BasicProperties
                {
                    Type = RabbitMqBusTopology.Complete,
                    CorrelationId = Id.ToString("N"),
                    Headers = new Dictionary<string, object?> { ["status"] = _held.Status, ["head-length"] = head.Length },
                }, payload, cancellationToken);
                return;
            }

            await Stream.FlushPendingAsync(cancellationToken);
            await _listener.PublishAsync(ReplyTo, new BasicProperties { Type = RabbitMqBusTopology.End, CorrelationId = Id.ToString("N") }, default, cancellationToken);
        }

        private async Task SendChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            if (!Started)
            {
                await StartAsync(200, default, cancellationToken);
            }

            using var link = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Cancellation.Token);
            await SendHeadIfHeldAsync(link.Token);
            await Credit.WaitAsync(link.Token);
            await _listener.PublishAsync(ReplyTo, new BasicProperties { Type = RabbitMqBusTopology.Chunk, CorrelationId = Id.ToString("N") }, chunk, link.Token);
        }

        public void Dispose()
        {
            Cancellation.Dispose();
            Credit.Dispose();
            Stream.Dispose();
        }
    }
}

/// <summary>An error frame's body (both transports).</summary>
internal sealed record ErrorBody(string Code, string Message);
