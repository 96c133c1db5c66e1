namespace Causeway.Bus;

/// <summary>The read side of a response body over chunks: reads a chunk at a time from <c>next</c> (null at the end).</summary>
internal sealed class ChunkReadStream(Func<CancellationToken, ValueTask<byte[]?>> next) : Stream
{
    private byte[]? _current;
    private int _offset;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current is null || _offset >= _current.Length)
        {
            _current = await next(cancellationToken);
            _offset = 0;
            if (_current is null)
            {
                return 0;
            }
        }

        var n = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsMemory(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// The write side of a response body: buffers up to one chunk and hands it to <c>send</c> when full. <c>send</c> must be
/// done with the memory it is given when its task completes (the buffer is reused). The buffer comes from the shared
/// pool on the first write and goes back when the stream is disposed.
/// </summary>
internal sealed class ChunkWriteStream(Func<ReadOnlyMemory<byte>, CancellationToken, Task> send) : Stream
{
    private byte[]? _buffer;
    private int _count;
    private bool _disposed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The body written and not sent yet.</summary>
    public ReadOnlySpan<byte> Pending => _buffer is null ? default : _buffer.AsSpan(0, _count);

    /// <summary>Forgets the pending body (the caller sent it some other way, for example with the response's end).</summary>
    public void Clear() => _count = 0;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (buffer.Length > 0)
        {
            _buffer ??= System.Buffers.ArrayPool<byte>.Shared.Rent(WebSocketBusConnection.ChunkSize);
            var n = Math.Min(buffer.Length, WebSocketBusConnection.ChunkSize - _count);
            buffer[..n].CopyTo(_buffer.AsMemory(_count));
            _count += n;
            buffer = buffer[n..];
            if (_count == WebSocketBusConnection.ChunkSize)
            {
                await FlushPendingAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    // Flushing does not force a chunk out: writers such as Utf8JsonWriter flush often, and tiny chunks cost more than
    // they save. The rest goes out when the chunk fills or the handler returns.
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public async Task FlushPendingAsync(CancellationToken cancellationToken)
    {
        if (_count == 0 || _buffer is null)
        {
            return;
        }

        var chunk = _buffer.AsMemory(0, _count);
        _count = 0;
        await send(chunk, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (_buffer is { } buffer)
            {
                _buffer = null;
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        base.Dispose(disposing);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// The head (status and head bytes) a handler started, held back on the answering side until its first chunk, its end
/// or its error, so that a small answer travels as one message on either transport. Not thread-safe: one writer.
/// </summary>
internal sealed class HeldHead
{
    private bool _held;

    /// <summary>True once the handler has started its answer.</summary>
    public bool Started { get; private set; }

    public int Status { get; private set; }

    public byte[] Head { get; private set; } = [];

    /// <summary>Keeps the head until <see cref="TryRelease"/>; an answer starts once.</summary>
    public void Start(int status, ReadOnlyMemory<byte> head, CancellationToken cancellationToken)
    {
        if (Started)
        {
            throw new InvalidOperationException("The response has already started.");
        }

        Started = true;
        cancellationToken.ThrowIfCancellationRequested();
        Status = status;
        Head = head.ToArray();
        _held = true;
    }

    /// <summary>True exactly once after <see cref="Start"/>: the caller now sends the head (alone or with the whole answer).</summary>
    public bool TryRelease()
    {
        if (!_held)
        {
            return false;
        }

        _held = false;
        return true;
    }
}
