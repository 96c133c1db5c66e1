using System.Buffers;
using System.Net.WebSockets;

namespace Causeway.Relay.DataPlane;

/// <summary>
/// Relays frames between two WebSockets unchanged: message type, fragment boundaries, close code and description.
/// Each fragment is sent (awaited) before the next one is read, so a slow side slows the fast one down — no buffering
/// beyond one fragment per direction.
/// </summary>
internal static class WebSocketPump
{
    private const int FragmentSize = 16 * 1024;
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(WebSocket sender, WebSocket listener, long maxMessageSize, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toListener = PumpAsync(sender, listener, maxMessageSize, cts.Token);
        var toSender = PumpAsync(listener, sender, maxMessageSize, cts.Token);
        var first = await Task.WhenAny(toListener, toSender);
        var other = first == toListener ? toSender : toListener;

        // The close was forwarded; give the other side a moment to answer it, then stop waiting.
        cts.CancelAfter(CloseGrace);
        try
        {
            await other;
        }
        catch (OperationCanceledException)
        {
        }

        sender.Abort();
        listener.Abort();
    }

    private static async Task PumpAsync(WebSocket from, WebSocket to, long maxMessageSize, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FragmentSize);
        long messageSize = 0;
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result;
                try
                {
                    result = await from.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
                {
                    // The source vanished without a close frame: tell the other side it went away.
                    await WebSocketMessages.TryCloseOutputAsync(to, WebSocketCloseStatus.EndpointUnavailable, "The peer disconnected.");
                    return;
                }

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await WebSocketMessages.TryCloseOutputAsync(to, from.CloseStatus ?? WebSocketCloseStatus.Empty, from.CloseStatusDescription);
                    return;
                }

                messageSize += result.Count;
                if (messageSize > maxMessageSize)
                {
                    const string tooBig = "The message exceeds the relay's size limit.";
                    await WebSocketMessages.TryCloseOutputAsync(from, WebSocketCloseStatus.MessageTooBig, tooBig);
                    await WebSocketMessages.TryCloseOutputAsync(to, WebSocketCloseStatus.MessageTooBig, tooBig);
                    return;
                }

                try
                {
                    await to.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, cancellationToken);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
                {
                    await WebSocketMessages.TryCloseOutputAsync(from, WebSocketCloseStatus.EndpointUnavailable, "The peer disconnected.");
                    return;
                }

                if (result.EndOfMessage)
                {
                    messageSize = 0;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
