using System.Security.Cryptography;

namespace Causeway.Bus;

/// <summary>
/// Wraps a handler so that a request carrying an <see cref="BusIncomingRequest.IdempotencyKey"/> is carried out at most
/// once: a retry with the same key (after a lost reply, or while the first is still running) gets the first one's answer
/// — status, head and body — instead of running again. Requests without a key pass straight through.
/// </summary>
/// <remarks>
/// Memory is bounded: answers are kept for <see cref="KeepFor"/> after they complete, at most <see cref="MaxEntries"/>
/// of them (the oldest go first), and a body is kept only up to <see cref="MaxResultBytes"/> (a retry of a request
/// whose answer was larger is refused with <c>duplicate-request</c> rather than run twice). The same key with another
/// operation or body is refused (<c>idempotency-key-reused</c>). A first attempt that failed or was cancelled applied
/// nothing (handlers that write do so in one transaction), so it is forgotten and the retry runs. The record lives in this process only: a retry
/// that reaches another member of the cluster is not recognised. Thread-safe.
/// </remarks>
public sealed class IdempotentHandler(IBusHandler inner) : IBusHandler
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _order = new();

    /// <summary>How long a completed answer is kept.</summary>
    public TimeSpan KeepFor { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Answers kept at most.</summary>
    public int MaxEntries { get; init; } = 10_000;

    /// <summary>The largest body kept for a replay.</summary>
    public int MaxResultBytes { get; init; } = 256 * 1024;

    /// <summary>Keys remembered now (in flight or completed).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <inheritdoc/>
    public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (request.IdempotencyKey is not { } key)
        {
            await inner.HandleAsync(request, response, cancellationToken);
            return;
        }

        var fingerprint = Convert.ToHexString(SHA256.HashData(request.Body.Span)) + "|" + request.Operation;
        while (true)
        {
            Entry entry;
            bool first;
            lock (_lock)
            {
                Prune(DateTimeOffset.UtcNow);
                first = !_entries.TryGetValue(key, out entry!);
                if (first)
                {
                    entry = new Entry(key, fingerprint);
                    entry.Node = _order.AddLast(entry);
                    _entries[key] = entry;
                }
            }

            if (entry.Fingerprint != fingerprint)
            {
                throw new BusException("idempotency-key-reused", "The idempotency key was already used for a different request.");
            }

            if (first)
            {
                await RunFirstAsync(entry, request, response, cancellationToken);
                return;
            }

            var result = await entry.Result.Task.WaitAsync(cancellationToken);
            if (result is null)
            {
                continue; // The first attempt was cancelled and forgotten: this one runs it.
            }

            await ReplayAsync(result, response, cancellationToken);
            return;
        }
    }

    private async Task RunFirstAsync(Entry entry, BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        var recorder = new RecordingWriter(response, MaxResultBytes);
        try
        {
            await inner.HandleAsync(request, recorder, cancellationToken);
        }
        catch
        {
            // Failed or cancelled: the handler applied nothing (writes are transactional), so forget the key; a retry, or a
            // duplicate waiting for this attempt, runs the request again.
            lock (_lock)
            {
                Forget(entry);
            }

            entry.Result.TrySetResult(null);
            throw;
        }

        Complete(entry, new Result(recorder.Status ?? 204, recorder.Head, recorder.Overflowed ? null : recorder.Body.ToArray()));
    }

    private void Complete(Entry entry, Result result)
    {
        entry.CompletedAt = DateTimeOffset.UtcNow;
        entry.Result.TrySetResult(result);
    }

    private static async Task ReplayAsync(Result result, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        if (result.Body is null)
        {
            throw new BusException("duplicate-request", "A request with this idempotency key was already carried out; its answer was too large to keep for a retry.");
        }

        await response.StartAsync(result.Status, result.Head, cancellationToken);
        await response.Body.WriteAsync(result.Body, cancellationToken);
    }

    private void Prune(DateTimeOffset now)
    {
        // Oldest first: drop expired answers, then the oldest completed ones while over the limit.
        var node = _order.First;
        while (node is not null)
        {
            var next = node.Next;
            var entry = node.Value;
            if (entry.CompletedAt is { } done && (now - done > KeepFor || _entries.Count >= MaxEntries))
            {
                Forget(entry);
            }
            else if (entry.CompletedAt is { } completed && now - completed <= KeepFor && _entries.Count < MaxEntries)
            {
                break;
            }

            node = next;
        }
    }

    private void Forget(Entry entry)
    {
        if (_entries.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Key);
        }

        if (entry.Node?.List is not null)
        {
            _order.Remove(entry.Node);
        }
    }

    private sealed class Entry(string key, string fingerprint)
    {
        public string Key { get; } = key;

        public string Fingerprint { get; } = fingerprint;

        public LinkedListNode<Entry>? Node { get; set; }

        public DateTimeOffset? CompletedAt { get; set; }

        public TaskCompletionSource<Result?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Result(int Status, ReadOnlyMemory<byte> Head, byte[]? Body);

    /// <summary>Passes the answer through and keeps a copy (up to a limit).</summary>
    private sealed class RecordingWriter(IBusResponseWriter inner, int limit) : IBusResponseWriter
    {
        public int? Status { get; set; }

        public ReadOnlyMemory<byte> Head { get; private set; }

        public MemoryStream Body { get; } = new();

        public bool Overflowed { get; set; }

        Stream IBusResponseWriter.Body => field ??= new TeeStream(this, inner.Body, limit);

        public Task StartAsync(int status, ReadOnlyMemory<byte> head, CancellationToken cancellationToken)
        {
            Status = status;
            Head = head.ToArray();
            return inner.StartAsync(status, head, cancellationToken);
        }
    }

    private sealed class TeeStream(RecordingWriter recorder, Stream inner, int limit) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            recorder.Status ??= 200;
            if (!recorder.Overflowed)
            {
                if (recorder.Body.Length + buffer.Length > limit)
                {
                    recorder.Overflowed = true;
                    recorder.Body.SetLength(0);
                }
                else
                {
                    recorder.Body.Write(buffer.Span);
                }
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
