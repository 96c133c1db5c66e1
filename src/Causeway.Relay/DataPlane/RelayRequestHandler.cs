using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Causeway.Relay.HybridConnections;
using Causeway.Relay.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Causeway.Relay.DataPlane;

/// <summary>
/// Every request on the relay port: <c>/$hc/{path}?sb-hc-action=listen|connect|accept|request</c> (WebSockets) and
/// HTTP mode on any other path.
/// </summary>
internal sealed partial class RelayRequestHandler(
    IHybridConnectionStore store,
    RelayHub hub,
    RelayAuthorizer authorizer,
    IOptions<RelayOptions> options,
    TimeProvider timeProvider,
    ILogger<RelayRequestHandler> logger)
{
    private static readonly HashSet<string> HopByHopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Content-Length",
    };

    private readonly RelayOptions _options = options.Value;

    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        const string prefix = "/" + RelayAddresses.HcSegment + "/";
        if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return HandleWebSocketAsync(context, RelayAddresses.TrimPath(path[prefix.Length..]));
        }

        return HandleHttpModeAsync(context, RelayAddresses.TrimPath(path));
    }

    private async Task HandleWebSocketAsync(HttpContext context, string path)
    {
        var action = context.Request.Query[RelayAddresses.Action].ToString();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "WebSocket upgrade required", "The $hc endpoints speak WebSocket only.");
            return;
        }

        switch (action.ToLowerInvariant())
        {
            case RelayAddresses.Listen:
                await ListenAsync(context, path);
                break;
            case RelayAddresses.Connect or "":
                await ConnectAsync(context, path);
                break;
            case RelayAddresses.Accept or RelayAddresses.Request:
                await RendezvousAsync(context, path);
                break;
            default:
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "Unknown action", $"'{RelayAddresses.Action}' must be listen, connect, accept or request.");
                break;
        }
    }

    private async Task ListenAsync(HttpContext context, string path)
    {
        var hybridConnection = await store.GetAsync(path, context.RequestAborted);
        if (hybridConnection is null)
        {
            await NotFoundAsync(context, path);
            return;
        }

        var authorization = authorizer.Authorize(hybridConnection, TokenOf(context.Request), AccessRights.Listen);
        if (authorization.Outcome != AuthorizationOutcome.Allowed)
        {
            await ProblemAsync(context, authorization.StatusCode, "Not authorized to listen", authorization.Reason);
            return;
        }

        if (hub.ListenerCount(hybridConnection.Path) >= _options.MaxListenersPerHybridConnection)
        {
            await ProblemAsync(context, StatusCodes.Status403Forbidden, "Too many listeners", $"At most {_options.MaxListenersPerHybridConnection} listeners may listen on one hybrid connection.");
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(AcceptContext(null));
        var id = context.Request.Query[RelayAddresses.Id].ToString();
        var scheme = context.Request.IsHttps ? "wss" : "ws";
        using var session = new ListenerSession(
            hybridConnection.Path,
            string.IsNullOrEmpty(id) ? Guid.NewGuid().ToString() : id,
            socket,
            $"{scheme}://{context.Request.Host}",
            authorization.ExpiresAt,
            timeProvider);
        if (!hub.TryAddListener(session, _options.MaxListenersPerHybridConnection))
        {
            await session.CloseAsync(WebSocketCloseStatus.PolicyViolation, "Too many listeners on this hybrid connection.");
            return;
        }

        Log.ListenerConnected(logger, hybridConnection.Path, session.Id);
        try
        {
            await RunControlChannelAsync(session);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The listener vanished or was aborted after a close; its pending work fails below.
        }
        catch (Exception ex)
        {
            Log.ControlChannelFailed(logger, hybridConnection.Path, session.Id, ex);
            await session.CloseAsync(WebSocketCloseStatus.InternalServerError, "The relay failed.");
        }
        finally
        {
            hub.RemoveListener(session);
            Log.ListenerDisconnected(logger, hybridConnection.Path, session.Id);
        }
    }

    private async Task RunControlChannelAsync(ListenerSession session)
    {
        var message = new ArrayBufferWriter<byte>();
        var limit = _options.MaxControlMessageSize;
        while (true)
        {
            var (type, tooLarge) = await WebSocketMessages.ReadAsync(session.Socket, message, limit, session.Aborted);
            if (type == WebSocketMessageType.Close)
            {
                // Answer the listener's close (or finish the handshake we started).
                await WebSocketMessages.TryCloseOutputAsync(session.Socket, session.Socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null);
                return;
            }

            if (tooLarge)
            {
                await session.CloseAsync(WebSocketCloseStatus.MessageTooBig, "Control-channel message too large.");
                continue;
            }

            if (type != WebSocketMessageType.Text)
            {
                // Node's listener sends an empty binary frame after a body-less response; nothing to do with it.
                continue;
            }

            var command = ProtocolJson.TryParse(message.WrittenSpan);
            if (command?.RenewToken is { } renew)
            {
                await RenewTokenAsync(session, renew);
            }
            else if (command?.Response is { } response)
            {
                var body = ReadOnlyMemory<byte>.Empty;
                if (response.Body)
                {
                    var bodyBuffer = new ArrayBufferWriter<byte>();
                    var (bodyType, bodyTooLarge) = await WebSocketMessages.ReadAsync(session.Socket, bodyBuffer, limit, session.Aborted);
                    if (bodyType == WebSocketMessageType.Close)
                    {
                        await WebSocketMessages.TryCloseOutputAsync(session.Socket, session.Socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null);
                        return;
                    }

                    if (bodyTooLarge)
                    {
                        await session.CloseAsync(WebSocketCloseStatus.MessageTooBig, "Response body too large for the control channel; use the rendezvous address.");
                        continue;
                    }

                    body = bodyBuffer.WrittenMemory;
                }

                var rendezvous = hub.TryTake(response.RequestId, session);
                if (rendezvous is { Kind: RendezvousKind.Request })
                {
                    rendezvous.Arrived.TrySetResult(new RendezvousArrival(ArrivalKind.ControlResponse, Response: response, Body: body));
                }
            }
        }
    }

    private async Task RenewTokenAsync(ListenerSession session, RenewTokenCommand renew)
    {
        var hybridConnection = await store.GetAsync(session.Path, CancellationToken.None);
        if (hybridConnection is null)
        {
            await session.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "The hybrid connection was deleted.");
            return;
        }

        var result = authorizer.Authorize(hybridConnection, renew.Token, AccessRights.Listen);
        if (result.Outcome != AuthorizationOutcome.Allowed)
        {
            await session.CloseAsync(WebSocketCloseStatus.PolicyViolation, result.Reason);
            return;
        }

        session.RenewToken(result.ExpiresAt);
    }

    private async Task ConnectAsync(HttpContext context, string path)
    {
        var hybridConnection = await store.GetAsync(path, context.RequestAborted);
        if (hybridConnection is null)
        {
            await NotFoundAsync(context, path);
            return;
        }

        var rendezvous = await BeginRendezvousAsync(context, hybridConnection, RendezvousKind.Accept);
        if (rendezvous is null)
        {
            return;
        }

        var listener = rendezvous.Listener;

        try
        {
            var accept = new AcceptCommand(
                RendezvousAddress(listener, hybridConnection.Path, RelayAddresses.Accept, rendezvous.Id),
                rendezvous.Id,
                ConnectHeaders(context.Request),
                RemoteEndpointOf(context));
            if (!await listener.SendAsync(ProtocolJson.Serialize(new ControlMessage(Accept: accept)), null))
            {
                await NoListenerAsync(context, hybridConnection.Path);
                return;
            }

            RendezvousArrival arrival;
            try
            {
                arrival = await rendezvous.Arrived.Task.WaitAsync(_options.RendezvousTimeout, timeProvider, context.RequestAborted);
            }
            catch (TimeoutException)
            {
                await ProblemAsync(context, StatusCodes.Status504GatewayTimeout, "Listener did not accept", $"No listener accepted the connection within {_options.RendezvousTimeout.TotalSeconds:0.#} s.");
                return;
            }

            switch (arrival.Kind)
            {
                case ArrivalKind.Socket:
                    var requested = context.WebSockets.WebSocketRequestedProtocols;
                    var subProtocol = arrival.SubProtocol is { } chosen && requested.Contains(chosen, StringComparer.Ordinal) ? chosen : null;
                    var senderSocket = await context.WebSockets.AcceptWebSocketAsync(AcceptContext(subProtocol));
                    await WebSocketPump.RunAsync(senderSocket, arrival.Socket!, _options.MaxMessageSize, CancellationToken.None);
                    break;
                case ArrivalKind.Rejected:
                    await ProblemAsync(context, arrival.StatusCode, "Rejected by the listener", arrival.Description, arrival.Description);
                    break;
                default:
                    await NoListenerAsync(context, hybridConnection.Path);
                    break;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The sender gave up.
        }
        finally
        {
            hub.End(rendezvous);
        }
    }

    /// <summary>The listener's side of a rendezvous: accept (WebSocket or HTTP response) or reject with a status.</summary>
    private async Task RendezvousAsync(HttpContext context, string path)
    {
        var rendezvous = hub.TryTake(context.Request.Query[RelayAddresses.Id].ToString());
        if (rendezvous is null || !string.Equals(rendezvous.Path, path, StringComparison.OrdinalIgnoreCase))
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "Rendezvous not found", "The rendezvous address is unknown, already used, or expired.");
            return;
        }

        var statusText = FirstOf(context.Request.Query, RelayAddresses.StatusCode, "statusCode");
        if (!StringValues.IsNullOrEmpty(statusText))
        {
            var status = int.TryParse(statusText, out var code) && code is >= 400 and <= 599 ? code : StatusCodes.Status400BadRequest;
            var description = FirstOf(context.Request.Query, RelayAddresses.StatusDescription, "statusDescription").ToString();
            rendezvous.Arrived.TrySetResult(new RendezvousArrival(ArrivalKind.Rejected, StatusCode: status, Description: description));

            // Azure answers a rejecting listener with 410 Gone: the address is used up, the sender has its answer.
            await ProblemAsync(context, StatusCodes.Status410Gone, "Rejected", "The sender was given the rejection.");
            return;
        }

        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault();
        var socket = await context.WebSockets.AcceptWebSocketAsync(AcceptContext(subProtocol));
        if (!rendezvous.Arrived.TrySetResult(new RendezvousArrival(ArrivalKind.Socket, socket, subProtocol)))
        {
            await WebSocketMessages.TryCloseOutputAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "The sender is gone.");
            return;
        }

        // Keep this request (and so the socket) alive while the waiting side uses it.
        await rendezvous.Finished.Task;
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await WebSocketMessages.TryCloseOutputAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "The sender is gone.");
        }
    }

    /// <summary>
    /// Checks the sender's token and picks a listener for a new rendezvous; null when the request was already answered
    /// (401/403, no listener, or too many rendezvous pending on this hybrid connection).
    /// </summary>
    private async Task<Rendezvous?> BeginRendezvousAsync(HttpContext context, HybridConnection hybridConnection, RendezvousKind kind)
    {
        if (!await AuthorizeSenderAsync(context, hybridConnection))
        {
            return null;
        }

        var listener = hub.NextListener(hybridConnection.Path);
        if (listener is null)
        {
            await NoListenerAsync(context, hybridConnection.Path);
            return null;
        }

        var rendezvous = hub.TryBegin(hybridConnection.Path, kind, listener, _options.MaxPendingRendezvousPerHybridConnection);
        if (rendezvous is null)
        {
            await BusyAsync(context);
        }

        return rendezvous;
    }

    private async Task HandleHttpModeAsync(HttpContext context, string path)
    {
        var hybridConnection = await FindByPrefixAsync(path, context.RequestAborted);
        if (hybridConnection is null || !hybridConnection.HttpModeEnabled)
        {
            await NotFoundAsync(context, path);
            return;
        }

        var rendezvous = await BeginRendezvousAsync(context, hybridConnection, RendezvousKind.Request);
        if (rendezvous is null)
        {
            return;
        }

        var listener = rendezvous.Listener;

        using var timeout = new CancellationTokenSource(_options.RequestTimeout, timeProvider);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted);
        byte[]? rented = null;
        try
        {
            // Bodies up to the inline limit go on the control channel; anything larger (or of unknown length beyond it)
            // goes over a rendezvous socket. Reading one byte more than the limit tells the two apart.
            var hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;
            var inlineLimit = _options.MaxInlineBodySize;
            var prefixLength = 0;
            if (hasBody)
            {
                rented = ArrayPool<byte>.Shared.Rent(inlineLimit + 1);
                prefixLength = await ReadAtMostAsync(context.Request.Body, rented.AsMemory(0, inlineLimit + 1), waiting.Token);
            }

            var large = prefixLength > inlineLimit;
            hasBody = prefixLength > 0;
            var request = new RequestCommand(
                RendezvousAddress(listener, hybridConnection.Path, RelayAddresses.Request, rendezvous.Id),
                rendezvous.Id,
                RequestTarget(context.Request),
                context.Request.Method,
                RemoteEndpointOf(context),
                RequestHeaders(context.Request),
                hasBody);

            var sent = large
                ? await listener.SendAsync(ProtocolJson.Serialize(new ControlMessage(Request: new RequestCommand(request.Address, request.Id))), null)
                : await listener.SendAsync(ProtocolJson.Serialize(new ControlMessage(Request: request)), hasBody ? rented.AsMemory(0, prefixLength) : (ReadOnlyMemory<byte>?)null);
            if (!sent)
            {
                await NoListenerAsync(context, hybridConnection.Path);
                return;
            }

            var arrival = await rendezvous.Arrived.Task.WaitAsync(waiting.Token);
            switch (arrival.Kind)
            {
                case ArrivalKind.ControlResponse:
                    if (await StartResponseAsync(context, arrival.Response!) && arrival.Response!.Body)
                    {
                        await context.Response.Body.WriteAsync(arrival.Body, context.RequestAborted);
                    }

                    break;
                case ArrivalKind.Socket:
                    var socket = arrival.Socket!;
                    if (large)
                    {
                        await socket.SendAsync(ProtocolJson.Serialize(new ControlMessage(Request: request)), WebSocketMessageType.Text, true, context.RequestAborted);
                        await StreamRequestBodyAsync(context, socket, rented.AsMemory(0, prefixLength));
                    }

                    await RelayResponseFromSocketAsync(context, socket, waiting.Token);
                    break;
                case ArrivalKind.Rejected:
                    await ProblemAsync(context, arrival.StatusCode, "Rejected by the listener", arrival.Description, arrival.Description);
                    break;
                default:
                    await NoListenerAsync(context, hybridConnection.Path);
                    break;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            if (!context.Response.HasStarted)
            {
                await ProblemAsync(context, StatusCodes.Status504GatewayTimeout, "Listener did not respond", $"The listener did not answer within {_options.RequestTimeout.TotalSeconds:0.#} s.");
            }
            else
            {
                context.Abort();
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The sender gave up.
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            if (!context.Response.HasStarted)
            {
                await ProblemAsync(context, StatusCodes.Status502BadGateway, "Listener failed", "The listener's connection failed before it answered.");
            }
            else
            {
                context.Abort();
            }
        }
        finally
        {
            hub.End(rendezvous);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private async Task StreamRequestBodyAsync(HttpContext context, WebSocket socket, ReadOnlyMemory<byte> prefix)
    {
        // One binary message in fragments: each is awaited before the next read, so the sender goes at the listener's pace.
        await socket.SendAsync(prefix, WebSocketMessageType.Binary, false, context.RequestAborted);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, false, context.RequestAborted);
            }

            await socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Binary, true, context.RequestAborted);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RelayResponseFromSocketAsync(HttpContext context, WebSocket socket, CancellationToken waiting)
    {
        var message = new ArrayBufferWriter<byte>();
        ResponseCommand? response = null;
        while (response is null)
        {
            var (type, tooLarge) = await WebSocketMessages.ReadAsync(socket, message, _options.MaxControlMessageSize, waiting);
            if (type == WebSocketMessageType.Close || tooLarge)
            {
                await ProblemAsync(context, StatusCodes.Status502BadGateway, "Listener failed", "The listener closed the rendezvous without a valid response.");
                return;
            }

            if (type == WebSocketMessageType.Text)
            {
                response = ProtocolJson.TryParse(message.WrittenSpan)?.Response;
            }
        }

        if (await StartResponseAsync(context, response) && response.Body)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, result.Count), context.RequestAborted);
                    if (result.EndOfMessage)
                    {
                        break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        await WebSocketMessages.TryCloseOutputAsync(socket, WebSocketCloseStatus.NormalClosure, null);
    }

    /// <summary>Copies status and headers to the sender's response; false (after a 502) when the status is invalid.</summary>
    private static async Task<bool> StartResponseAsync(HttpContext context, ResponseCommand response)
    {
        if (response.StatusCode is < 100 or > 599)
        {
            await ProblemAsync(context, StatusCodes.Status502BadGateway, "Listener failed", "The listener answered with an invalid status code.");
            return false;
        }

        context.Response.StatusCode = response.StatusCode;
        if (IsPrintableAscii(response.StatusDescription))
        {
            context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = response.StatusDescription;
        }

        foreach (var (name, value) in response.ResponseHeaders ?? [])
        {
            if (!HopByHopHeaders.Contains(name) && !string.IsNullOrEmpty(name))
            {
                context.Response.Headers.Append(name, ProtocolJson.HeaderValue(value));
            }
        }

        await context.Response.StartAsync(context.RequestAborted);
        return true;
    }

    private async Task<bool> AuthorizeSenderAsync(HttpContext context, HybridConnection hybridConnection)
    {
        if (!hybridConnection.RequiresClientAuthorization)
        {
            return true;
        }

        var result = authorizer.Authorize(hybridConnection, TokenOf(context.Request), AccessRights.Send);
        if (result.Outcome == AuthorizationOutcome.Allowed)
        {
            return true;
        }

        await ProblemAsync(context, result.StatusCode, "Not authorized to send", result.Reason);
        return false;
    }

    private async Task<HybridConnection?> FindByPrefixAsync(string path, CancellationToken cancellationToken)
    {
        // HTTP mode: /{hybrid connection path}/{anything}. Paths may contain slashes, so try the longest prefix first.
        var candidate = path;
        while (candidate.Length > 0)
        {
            if (await store.GetAsync(candidate, cancellationToken) is { } found)
            {
                return found;
            }

            var slash = candidate.LastIndexOf('/');
            candidate = slash < 0 ? "" : candidate[..slash];
        }

        return null;
    }

    private static string? TokenOf(HttpRequest request)
    {
        var header = request.Headers[RelayAddresses.AuthorizationHeader].ToString();
        if (!string.IsNullOrEmpty(header))
        {
            return header;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith(Causeway.Security.SharedAccessSignature.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return authorization;
        }

        var query = request.Query[RelayAddresses.Token].ToString();
        return string.IsNullOrEmpty(query) ? null : query;
    }

    private static Dictionary<string, string> ConnectHeaders(HttpRequest request)
    {
        var headers = RequestHeaders(request);

        // Listeners (hyco-ws) check the WebSocket handshake headers; HTTP/2 WebSockets have no key, so make one up.
        if (!headers.Keys.Any(k => k.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase)))
        {
            headers["Sec-WebSocket-Key"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        }

        if (!headers.Keys.Any(k => k.Equals("Sec-WebSocket-Version", StringComparison.OrdinalIgnoreCase)))
        {
            headers["Sec-WebSocket-Version"] = "13";
        }

        return headers;
    }

    private static Dictionary<string, string> RequestHeaders(HttpRequest request)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            // The sender's credentials are for the relay, never for the listener.
            if (name.Equals(RelayAddresses.AuthorizationHeader, StringComparison.OrdinalIgnoreCase) ||
                (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) &&
                 values.ToString().StartsWith(Causeway.Security.SharedAccessSignature.Scheme, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            headers[name] = values.ToString();
        }

        return headers;
    }

    private static string RequestTarget(HttpRequest request)
    {
        var target = new StringBuilder(request.PathBase.Add(request.Path).ToUriComponent());
        var separator = '?';
        foreach (var (name, values) in request.Query)
        {
            if (name.StartsWith("sb-hc-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var value in values)
            {
                target.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
                separator = '&';
            }
        }

        return target.ToString();
    }

    private static string RendezvousAddress(ListenerSession listener, string path, string action, string id)
    {
        var escapedPath = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        return $"{listener.RendezvousBase}/{RelayAddresses.HcSegment}/{escapedPath}?{RelayAddresses.Action}={action}&{RelayAddresses.Id}={id}";
    }

    private static RemoteEndpoint RemoteEndpointOf(HttpContext context) =>
        new(context.Connection.RemoteIpAddress?.ToString() ?? "", context.Connection.RemotePort);

    private WebSocketAcceptContext AcceptContext(string? subProtocol) =>
        new()
        {
            SubProtocol = subProtocol,
            KeepAliveInterval = _options.KeepAliveInterval,
            KeepAliveTimeout = _options.KeepAliveInterval > TimeSpan.Zero ? _options.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
            DangerousEnableCompression = false,
        };

    private static async Task<int> ReadAtMostAsync(Stream body, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await body.ReadAsync(buffer[total..], cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static StringValues FirstOf(IQueryCollection query, string name, string alternative) =>
        query.TryGetValue(name, out var value) ? value : query[alternative];

    private static bool IsPrintableAscii(string? text) =>
        !string.IsNullOrEmpty(text) && text.All(c => c is >= ' ' and <= '~');

    private static Task NotFoundAsync(HttpContext context, string path) =>
        ProblemAsync(context, StatusCodes.Status404NotFound, "Hybrid connection not found", $"There is no hybrid connection at '{path}'.");

    private static Task NoListenerAsync(HttpContext context, string path) =>
        ProblemAsync(context, StatusCodes.Status502BadGateway, "No listener", $"No listener is connected to '{path}'.");

    private static Task BusyAsync(HttpContext context) =>
        ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many pending connections", "Too many connections are waiting for a listener; try again later.");

    private static async Task ProblemAsync(HttpContext context, int status, string title, string? detail, string? reasonPhrase = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        if (IsPrintableAscii(reasonPhrase))
        {
            context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reasonPhrase;
        }

        await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Listener {ListenerId} connected to hybrid connection {Path}")]
        public static partial void ListenerConnected(ILogger logger, string path, string listenerId);

        [LoggerMessage(2, LogLevel.Information, "Listener {ListenerId} left hybrid connection {Path}")]
        public static partial void ListenerDisconnected(ILogger logger, string path, string listenerId);

        [LoggerMessage(3, LogLevel.Error, "Control channel of listener {ListenerId} on {Path} failed")]
        public static partial void ControlChannelFailed(ILogger logger, string path, string listenerId, Exception exception);
    }
}
