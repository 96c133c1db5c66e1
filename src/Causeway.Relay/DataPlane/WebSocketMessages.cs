using System.Buffers;
using System.Net.WebSockets;

namespace Causeway.Relay.DataPlane;

/// <summary>Reading whole (bounded) messages and closing sockets without throwing.</summary>
internal static class WebSocketMessages
{
    /// <summary>
    /// Reads one whole message into <paramref name="writer"/>. When it grows past <paramref name="limit"/> the read stops
    /// and <c>TooLarge</c> is true; the caller closes with 1009. A close frame returns <see cref="WebSocketMessageType.Close"/>.
    /// </summary>
    public static async ValueTask<(WebSocketMessageType Type, bool TooLarge)> ReadAsync(
        WebSocket socket, ArrayBufferWriter<byte> writer, int limit, CancellationToken cancellationToken)
    {
        writer.ResetWrittenCount();
        while (true)
        {
            var memory = writer.GetMemory(8192);
            var result = await socket.ReceiveAsync(memory, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, false);
            }

            writer.Advance(result.Count);
            if (writer.WrittenCount > limit)
            {
                return (result.MessageType, true);
            }

            if (result.EndOfMessage)
            {
                return (result.MessageType, false);
            }
        }
    }

    /// <summary>Starts or completes the close handshake if the socket still allows it; never throws.</summary>
    public static async Task TryCloseOutputAsync(WebSocket socket, WebSocketCloseStatus status, string? description)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                // 1005 (no status) cannot carry a description; codes the peer sent are forwarded as they were.
                var text = status == WebSocketCloseStatus.Empty ? null : Truncate(description);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.CloseOutputAsync(status, text, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // The peer is gone; nothing more to tell it.
        }
    }

    /// <summary>Close descriptions are limited to 123 UTF-8 bytes by RFC 6455.</summary>
    private static string? Truncate(string? description)
    {
        if (description is null || System.Text.Encoding.UTF8.GetByteCount(description) <= 123)
        {
            return description;
        }

        var text = description;
        while (System.Text.Encoding.UTF8.GetByteCount(text) > 123)
        {
            text = text[..^1];
        }

        return text;
    }
}
