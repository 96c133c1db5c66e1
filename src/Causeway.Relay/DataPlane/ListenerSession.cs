using System.Net.WebSockets;

namespace Causeway.Relay.DataPlane;

/// <summary>
/// One listener's control channel. Sends are serialized by a lock (a command and its body frame must not interleave with
/// another command) and awaited, so a slow listener pushes back on the senders that use it.
/// </summary>
internal sealed class ListenerSession : IDisposable
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _abort = new();
    private readonly ITimer _expiryTimer;
    private readonly TimeProvider _timeProvider;
    private int _closing;

    public ListenerSession(string path, string id, WebSocket socket, string rendezvousBase, DateTimeOffset tokenExpiresAt, TimeProvider timeProvider)
    {
        Path = path;
        Id = id;
        Socket = socket;
        RendezvousBase = rendezvousBase;
        _timeProvider = timeProvider;
        _expiryTimer = timeProvider.CreateTimer(static state => ((ListenerSession)state!).OnTokenExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        RenewToken(tokenExpiresAt);
    }

    /// <summary>The hybrid connection's path as stored.</summary>
    public string Path { get; }

    public string Id { get; }

    public WebSocket Socket { get; }

    /// <summary><c>wss://host:port</c> as the listener reached the relay: rendezvous addresses must be reachable from it.</summary>
    public string RendezvousBase { get; }

    /// <summary>Cancelled when the session is being torn down (used by the receive loop).</summary>
    public CancellationToken Aborted => _abort.Token;

    /// <summary>Moves the token expiry; the channel closes with 1008 when it passes.</summary>
    public void RenewToken(DateTimeOffset expiresAt)
    {
        var due = expiresAt - _timeProvider.GetUtcNow();
        _expiryTimer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : Min(due, TimeSpan.FromDays(30)), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Sends a command (text) and, optionally, its body (one binary message). False when the channel is gone.</summary>
    public async Task<bool> SendAsync(ReadOnlyMemory<byte> command, ReadOnlyMemory<byte>? body)
    {
        // Never the sender's token here: cancelling a WebSocket send aborts the socket, and this one serves everybody.
        try
        {
            await _sendLock.WaitAsync(_abort.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        try
        {
            if (Socket.State != WebSocketState.Open || Volatile.Read(ref _closing) != 0)
            {
                return false;
            }

            await Socket.SendAsync(command, WebSocketMessageType.Text, true, _abort.Token);
            if (body is { } bytes)
            {
                await Socket.SendAsync(bytes, WebSocketMessageType.Binary, true, _abort.Token);
            }

            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Closes the channel with <paramref name="status"/>; the receive loop ends when the listener answers (or after a grace period).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string description)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _expiryTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            // A send stuck behind a listener that stopped reading must not keep the close from happening: after the
            // grace period the abort below ends the channel anyway.
            if (await _sendLock.WaitAsync(CloseGrace))
            {
                try
                {
                    await WebSocketMessages.TryCloseOutputAsync(Socket, status, description);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            _abort.CancelAfter(CloseGrace);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _expiryTimer.Dispose();
        _abort.Cancel();
        _abort.Dispose();
    }

    private void OnTokenExpired() => _ = CloseAsync(WebSocketCloseStatus.PolicyViolation, "The listener's token has expired.");

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
