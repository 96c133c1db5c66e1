namespace Causeway.Bus;

/// <summary>A request sent over the bus to one peer.</summary>
/// <param name="Operation">What to do (for example <c>data.query</c>); the receiving handler dispatches on it.</param>
/// <param name="Body">The request's payload (JSON by convention).</param>
public sealed record BusRequest(string Operation, ReadOnlyMemory<byte> Body)
{
    /// <summary>When the caller stops waiting; the peer is told, and cancels its work at the same moment.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// For writes: the same key on a retry lets the receiver recognise a request it already carried out.
    /// Required by convention for every operation that changes state.
    /// </summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>A request as the receiving handler sees it.</summary>
/// <param name="CorrelationId">The id that ties the request to its response frames.</param>
public sealed record BusIncomingRequest(Guid CorrelationId, string Operation, ReadOnlyMemory<byte> Body, DateTimeOffset? Deadline, string? IdempotencyKey);

/// <summary>
/// A response whose head has arrived; the body streams behind it. Reading <see cref="Body"/> to its end means the peer
/// finished: a response cut short (peer gone, peer failed mid-stream, deadline) throws <see cref="IOException"/> from
/// the read instead of ending early, so a truncated result is never mistaken for a complete one. Dispose to cancel.
/// </summary>
public interface IBusResponse : IAsyncDisposable
{
    /// <summary>The status the handler gave (HTTP-like: 200, 404, ...).</summary>
    int Status { get; }

    /// <summary>Metadata the handler sent with the status (JSON by convention).</summary>
    ReadOnlyMemory<byte> Head { get; }

    /// <summary>The streamed body; read it once.</summary>
    Stream Body { get; }

    /// <summary>
    /// The whole body when it arrived together with the head (a small answer sent as one message), else null: its length
    /// is known before anything is written, so a caller can send it with a Content-Length in one write instead of
    /// streaming <see cref="Body"/>. Read one or the other.
    /// </summary>
    ReadOnlyMemory<byte>? WholeBody { get; }
}

/// <summary>Sends requests over the bus. Implementations are thread-safe and multiplex concurrent requests.</summary>
public interface IBusClient
{
    /// <summary>Sends a request and waits for the head of its response.</summary>
    /// <exception cref="BusException">The peer refused or failed the request, went away, or the deadline passed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (the peer is told to stop).</exception>
    Task<IBusResponse> SendAsync(BusRequest request, CancellationToken cancellationToken);
}

/// <summary>Writes one response. Call <see cref="StartAsync"/> once, then write the body; returning from the handler ends it.</summary>
public interface IBusResponseWriter
{
    /// <summary>Sets the status and head. A transport may hold them until the first body chunk or the end of the response, to send them together.</summary>
    Task StartAsync(int status, ReadOnlyMemory<byte> head, CancellationToken cancellationToken);

    /// <summary>The body as a write-only stream: data is sent in chunks as the peer grants credit (back-pressure).</summary>
    Stream Body { get; }
}

/// <summary>Handles requests arriving over the bus. Called concurrently, once per request.</summary>
public interface IBusHandler
{
    /// <summary>
    /// Handles one request. Throw <see cref="BusException"/> with a message fit for the caller to fail it; any other
    /// exception is reported as a generic failure (its message is not sent, it might hold secrets).
    /// The token fires when the caller cancels, the deadline passes or the connection drops.
    /// </summary>
    Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken);
}

/// <summary>Why a bus request failed.</summary>
public enum BusErrorKind
{
    /// <summary>The handler failed it; the message says why.</summary>
    Remote,

    /// <summary>The connection to the peer was lost.</summary>
    Disconnected,

    /// <summary>The deadline passed.</summary>
    DeadlineExceeded,

    /// <summary>The peer has too many requests in flight.</summary>
    Busy,

    /// <summary>The request is larger than the transport's message size limit; nothing was sent.</summary>
    MessageTooLarge,
}

/// <summary>A bus request failed; the message is safe to pass on to the caller.</summary>
public sealed class BusException(BusErrorKind kind, string code, string message, Exception? innerException = null) : Exception(message, innerException)
{
    /// <summary>Creates a remote failure with a code the caller may act on.</summary>
    public BusException(string code, string message)
        : this(BusErrorKind.Remote, code, message)
    {
    }

    /// <summary>The kind of failure.</summary>
    public BusErrorKind Kind { get; } = kind;

    /// <summary>A short machine-readable code (for example <c>datasource-unreachable</c>).</summary>
    public string Code { get; } = code;
}
