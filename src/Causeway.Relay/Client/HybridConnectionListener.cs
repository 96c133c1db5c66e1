using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Causeway.Relay.DataPlane;
using Causeway.Relay.Protocol;

namespace Causeway.Relay.Client;

/// <summary>
/// The listener side of a hybrid connection: keeps a control channel open (reconnecting with back-off and renewing its
/// token), hands accepted WebSockets to <see cref="AcceptConnectionAsync"/> and answers HTTP-mode requests with
/// <see cref="RequestHandler"/>. Set the handlers before <see cref="OpenAsync"/>.
/// </summary>
public sealed class HybridConnectionListener : IAsyncDisposable
{
    private const int InlineLimit = 64 * 1024;

    private readonly RelayEndpoint _endpoint;
    private readonly RelayClientOptions _options;
    private readonly Channel<WebSocket> _accepted = Channel.CreateBounded<WebSocket>(new BoundedChannelOptions(16) { SingleReader = false });
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _control;
    private Task? _run;
    private int _reconnects;
    private volatile bool _closeRequested;

    /// <summary>Creates a listener for <paramref name="path"/> on the relay at <paramref name="relayAddress"/>, signing with a Listen key.</summary>
    public HybridConnectionListener(Uri relayAddress, string path, string keyName, string key, RelayClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        _endpoint = new RelayEndpoint(relayAddress, path, keyName, key);
        _options = options ?? new RelayClientOptions();
    }

    /// <summary>Decides whether to accept a sender; return false (and set the reject status) to refuse. Default: accept.</summary>
    public Func<RelayedConnectionRequest, bool>? AcceptHandler { get; set; }

    /// <summary>Answers HTTP-mode requests. Without it, requests get 501.</summary>
    public Func<RelayedHttpRequest, CancellationToken, Task<RelayedHttpResponse>>? RequestHandler { get; set; }

    /// <summary>True while the control channel is connected.</summary>
    public bool IsOnline => _control?.State == WebSocketState.Open;

    /// <summary>How many times the control channel was re-established after a loss.</summary>
    public int ReconnectCount => Volatile.Read(ref _reconnects);

    /// <summary>Close status of the last lost control channel (e.g. 1008 token expired, 1001 deleted).</summary>
    public WebSocketCloseStatus? LastCloseStatus { get; private set; }

    /// <summary>Connects the control channel; later losses reconnect in the background.</summary>
    /// <exception cref="RelayException">The first connection failed (e.g. 401, 403, 404).</exception>
    public async Task OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("The listener is already open.");
        }

        var socket = await ConnectControlAsync(cancellationToken);
        _run = Task.Run(() => RunAsync(socket), CancellationToken.None);
    }

    /// <summary>The next accepted sender connection; null once the listener is closed.</summary>
    public async Task<WebSocket?> AcceptConnectionAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Closes the control channel (a clean close handshake first) and stops reconnecting. Connections already handed out
    /// by <see cref="AcceptConnectionAsync"/> stay open; their owners close them. Idempotent.
    /// </summary>
    public async Task CloseAsync()
    {
        if (_closeRequested)
        {
            return;
        }

        _closeRequested = true;
        if (_control is { } control)
        {
            await WebSocketMessages.TryCloseOutputAsync(control, WebSocketCloseStatus.NormalClosure, "Listener closed.");
        }

        await WaitForRunAsync();
        await _closing.CancelAsync();
        await WaitForRunAsync();
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out var unclaimed))
        {
            unclaimed.Dispose();
        }
    }

    private async Task WaitForRunAsync()
    {
        if (_run is { } run)
        {
            try
            {
                await run.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Still busy: cancelling (next) ends it.
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _control?.Dispose();
        _closing.Dispose();
    }

    private async Task<ClientWebSocket> ConnectControlAsync(CancellationToken cancellationToken)
    {
        var socket = NewSocket();
        socket.Options.SetRequestHeader(RelayAddresses.AuthorizationHeader, _endpoint.CreateToken(_options.TokenLifetime, _options.TimeProvider)!);
        try
        {
            await socket.ConnectAsync(_endpoint.WebSocketUri(RelayAddresses.Listen), cancellationToken);
        }
        catch (WebSocketException ex)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status == 0
                ? new RelayException($"Could not listen on '{_endpoint.Path}': {ex.Message}", ex)
                : new RelayException(status, $"The relay answered {status} when listening on '{_endpoint.Path}'.", ex);
        }

        _control = socket;
        return socket;
    }

    private ClientWebSocket NewSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
        if (_options.RemoteCertificateValidation is { } validation)
        {
            socket.Options.RemoteCertificateValidationCallback = validation;
        }

        return socket;
    }

    private async Task RunAsync(ClientWebSocket socket)
    {
        var attempt = 0;
        while (!_closeRequested)
        {
            await ServeAsync(socket);
            LastCloseStatus = socket.CloseStatus;
            socket.Dispose();
            while (!_closeRequested)
            {
                var delays = _options.ReconnectDelays;
                var delay = delays.Count == 0 ? TimeSpan.Zero : delays[Math.Min(attempt, delays.Count - 1)];
                attempt++;
                try
                {
                    await Task.Delay(delay, _options.TimeProvider, _closing.Token);
                    socket = await ConnectControlAsync(_closing.Token);
                    attempt = 0;
                    Interlocked.Increment(ref _reconnects);
                    break;
                }
                catch (Exception ex) when (ex is RelayException or OperationCanceledException or WebSocketException)
                {
                    // Try again after the next delay; a closed listener leaves the loop.
                }
            }
        }

        // A reconnect that raced with CloseAsync leaves a fresh channel behind: close it too.
        if (socket.State == WebSocketState.Open)
        {
            await WebSocketMessages.TryCloseOutputAsync(socket, WebSocketCloseStatus.NormalClosure, "Listener closed.");
            socket.Dispose();
        }
    }

    private async Task ServeAsync(ClientWebSocket socket)
    {
        using var renew = _options.TimeProvider.CreateTimer(
            _ => _ = RenewTokenAsync(socket), null, _options.TokenLifetime / 2, _options.TokenLifetime / 2);
        var message = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var (type, tooLarge) = await WebSocketMessages.ReadAsync(socket, message, 1024 * 1024, _closing.Token);
                if (type == WebSocketMessageType.Close)
                {
                    await WebSocketMessages.TryCloseOutputAsync(socket, socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null);
                    return;
                }

                if (tooLarge || type != WebSocketMessageType.Text)
                {
                    continue;
                }

                var command = ProtocolJson.TryParse(message.WrittenSpan);
                if (command?.Accept is { } accept)
                {
                    _ = Task.Run(() => AcceptAsync(accept));
                }
                else if (command?.Request is { } request)
                {
                    var body = ReadOnlyMemory<byte>.Empty;
                    if (request.Method is not null && request.Body == true)
                    {
                        var bodyBuffer = new ArrayBufferWriter<byte>();
                        var (bodyType, _) = await WebSocketMessages.ReadAsync(socket, bodyBuffer, _options.MaxRequestBodySize, _closing.Token);
                        if (bodyType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        body = bodyBuffer.WrittenMemory;
                    }

                    _ = Task.Run(() => HandleRequestAsync(socket, request, body));
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // Lost; the caller reconnects unless closing.
        }
    }

    private async Task RenewTokenAsync(ClientWebSocket socket)
    {
        var token = _endpoint.CreateToken(_options.TokenLifetime, _options.TimeProvider);
        await SendControlAsync(socket, ProtocolJson.Serialize(new ControlMessage(RenewToken: new RenewTokenCommand(token))), null);
    }

    private async Task AcceptAsync(AcceptCommand accept)
    {
        var headers = new Dictionary<string, string>(accept.ConnectHeaders, StringComparer.OrdinalIgnoreCase);
        var request = new RelayedConnectionRequest(accept.Id, headers, accept.RemoteEndpoint?.Address, accept.RemoteEndpoint?.Port ?? 0);
        var accepted = AcceptHandler?.Invoke(request) ?? true;
        var socket = NewSocket();
        try
        {
            if (!accepted)
            {
                var reject = $"{accept.Address}&{RelayAddresses.StatusCode}={request.RejectStatusCode}&{RelayAddresses.StatusDescription}={Uri.EscapeDataString(request.RejectDescription)}";
                try
                {
                    await socket.ConnectAsync(new Uri(reject), _closing.Token);
                }
                catch (WebSocketException)
                {
                    // Expected: the relay answers a rejection with 410 Gone.
                }

                socket.Dispose();
                return;
            }

            if (headers.TryGetValue("Sec-WebSocket-Protocol", out var protocols) && protocols.Split(',')[0].Trim() is { Length: > 0 } protocol)
            {
                socket.Options.AddSubProtocol(protocol);
            }

            await socket.ConnectAsync(new Uri(accept.Address), _closing.Token);
            await _accepted.Writer.WriteAsync(socket, _closing.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ChannelClosedException)
        {
            socket.Dispose();
        }
    }

    private async Task HandleRequestAsync(ClientWebSocket control, RequestCommand request, ReadOnlyMemory<byte> body)
    {
        ClientWebSocket? rendezvous = null;
        try
        {
            if (request.Method is null)
            {
                // Too large for the control channel: the request itself comes over the rendezvous socket.
                rendezvous = NewSocket();
                await rendezvous.ConnectAsync(new Uri(request.Address), _closing.Token);
                var buffer = new ArrayBufferWriter<byte>();
                var (type, _) = await WebSocketMessages.ReadAsync(rendezvous, buffer, 1024 * 1024, _closing.Token);
                if (type != WebSocketMessageType.Text || ProtocolJson.TryParse(buffer.WrittenSpan)?.Request is not { } full)
                {
                    return;
                }

                request = full with { Address = request.Address };
                if (full.Body == true)
                {
                    var bodyBuffer = new ArrayBufferWriter<byte>();
                    var (bodyType, tooLarge) = await WebSocketMessages.ReadAsync(rendezvous, bodyBuffer, _options.MaxRequestBodySize, _closing.Token);
                    if (bodyType == WebSocketMessageType.Close || tooLarge)
                    {
                        await WebSocketMessages.TryCloseOutputAsync(rendezvous, WebSocketCloseStatus.MessageTooBig, "Request body too large.");
                        return;
                    }

                    body = bodyBuffer.WrittenMemory;
                }
            }

            var relayed = new RelayedHttpRequest(
                request.Method!,
                request.RequestTarget ?? "/",
                request.RequestHeaders ?? [],
                body,
                request.RemoteEndpoint?.Address,
                request.RemoteEndpoint?.Port ?? 0);
            RelayedHttpResponse response;
            try
            {
                response = RequestHandler is { } handler
                    ? await handler(relayed, _closing.Token)
                    : new RelayedHttpResponse(501) { StatusDescription = "Not Implemented" };
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                response = new RelayedHttpResponse(500) { StatusDescription = "Internal Server Error" };
            }

            var command = ProtocolJson.Serialize(new ControlMessage(Response: new ResponseCommand(
                request.Id,
                response.StatusCode,
                response.StatusDescription,
                response.Headers.ToDictionary(h => h.Key, h => JsonSerializer.SerializeToElement(h.Value, ProtocolJsonContext.Default.String)),
                !response.Body.IsEmpty)));
            if (rendezvous is null && response.Body.Length <= InlineLimit)
            {
                await SendControlAsync(control, command, response.Body.IsEmpty ? (ReadOnlyMemory<byte>?)null : response.Body);
                return;
            }

            if (rendezvous is null)
            {
                rendezvous = NewSocket();
                await rendezvous.ConnectAsync(new Uri(request.Address), _closing.Token);
            }

            await rendezvous.SendAsync(command, WebSocketMessageType.Text, true, _closing.Token);
            if (!response.Body.IsEmpty)
            {
                for (var offset = 0; offset < response.Body.Length; offset += InlineLimit)
                {
                    var chunk = response.Body.Slice(offset, Math.Min(InlineLimit, response.Body.Length - offset));
                    await rendezvous.SendAsync(chunk, WebSocketMessageType.Binary, offset + chunk.Length >= response.Body.Length, _closing.Token);
                }
            }

            // The relay closes the rendezvous once it has relayed the response; wait for that close.
            var drain = new byte[256];
            while (rendezvous.State == WebSocketState.Open)
            {
                var result = await rendezvous.ReceiveAsync(drain.AsMemory(), _closing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await WebSocketMessages.TryCloseOutputAsync(rendezvous, WebSocketCloseStatus.NormalClosure, null);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The sender or the relay went away; nothing to answer.
        }
        finally
        {
            rendezvous?.Dispose();
        }
    }

    private async Task SendControlAsync(ClientWebSocket socket, ReadOnlyMemory<byte> command, ReadOnlyMemory<byte>? body)
    {
        await _sendLock.WaitAsync(CancellationToken.None);
        try
        {
            if (socket.State != WebSocketState.Open)
            {
                return;
            }

            await socket.SendAsync(command, WebSocketMessageType.Text, true, CancellationToken.None);
            if (body is { } bytes)
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            // The control channel is gone; the reconnect loop takes over.
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
