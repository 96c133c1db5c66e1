using System.Net.WebSockets;
using Causeway.Relay.Protocol;

namespace Causeway.Relay.Client;

/// <summary>
/// The sender side of a hybrid connection: WebSocket connections and HTTP-mode requests. Thread-safe; one instance can
/// be shared. Dispose it to release its HTTP connections.
/// </summary>
public sealed class HybridConnectionClient : IDisposable
{
    private readonly RelayEndpoint _endpoint;
    private readonly RelayClientOptions _options;
    private readonly HttpMessageInvoker _http;

    /// <summary>Creates a client for <paramref name="path"/> on the relay at <paramref name="relayAddress"/> (e.g. <c>https://host:5671/</c>).</summary>
    /// <param name="relayAddress">The relay's address; only scheme-independent host and port are used.</param>
    /// <param name="path">The hybrid connection's path.</param>
    /// <param name="keyName">The SAS key name, or null when the hybrid connection does not require client authorization.</param>
    /// <param name="key">The SAS key, or null.</param>
    /// <param name="options">Certificate trust and keep-alive; defaults otherwise.</param>
    public HybridConnectionClient(Uri relayAddress, string path, string? keyName = null, string? key = null, RelayClientOptions? options = null)
    {
        _endpoint = new RelayEndpoint(relayAddress, path, keyName, key);
        _options = options ?? new RelayClientOptions();
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (_options.RemoteCertificateValidation is { } validation)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validation;
        }

        _http = new HttpMessageInvoker(handler);
    }

    /// <summary>
    /// Opens a WebSocket to a listener through the relay. Returns once the listener accepted.
    /// </summary>
    /// <exception cref="RelayException">The relay or the listener refused (status 401, 403, 404, 502, 504 or the listener's own).</exception>
    public async Task<WebSocket> CreateConnectionAsync(IReadOnlyDictionary<string, string>? headers = null, string? subProtocol = null, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
        if (_options.RemoteCertificateValidation is { } validation)
        {
            socket.Options.RemoteCertificateValidationCallback = validation;
        }

        if (_endpoint.CreateToken(_options.TokenLifetime, _options.TimeProvider) is { } token)
        {
            socket.Options.SetRequestHeader(RelayAddresses.AuthorizationHeader, token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            socket.Options.SetRequestHeader(name, value);
        }

        if (subProtocol is not null)
        {
            socket.Options.AddSubProtocol(subProtocol);
        }

        try
        {
            await socket.ConnectAsync(_endpoint.WebSocketUri(RelayAddresses.Connect), cancellationToken);
            return socket;
        }
        catch (WebSocketException ex)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            throw status == 0
                ? new RelayException($"Could not connect to hybrid connection '{_endpoint.Path}': {ex.Message}", ex)
                : new RelayException(status, $"The relay answered {status} for hybrid connection '{_endpoint.Path}'.", ex);
        }
    }

    /// <summary>
    /// Like <see cref="CreateConnectionAsync"/>, as a <see cref="Stream"/> of binary messages (disposing it closes the
    /// connection). For byte-stream protocols tunnelled through the relay.
    /// </summary>
    /// <exception cref="RelayException">The relay or the listener refused.</exception>
    public async Task<Stream> CreateConnectionStreamAsync(CancellationToken cancellationToken = default) =>
        WebSocketStream.Create(await CreateConnectionAsync(cancellationToken: cancellationToken), WebSocketMessageType.Binary, ownsWebSocket: true);

    /// <summary>
    /// Sends an HTTP request to the listener (HTTP mode). <paramref name="request"/>'s <c>RequestUri</c> is relative to the
    /// hybrid connection (e.g. <c>"items/1?x=2"</c>) or null for its root. Relay errors come back as responses
    /// (502 no listener, 504 timeout), as for any HTTP gateway.
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is null || !request.RequestUri.IsAbsoluteUri)
        {
            request.RequestUri = _endpoint.HttpUri(request.RequestUri?.OriginalString);
        }

        if (_endpoint.CreateToken(_options.TokenLifetime, _options.TimeProvider) is { } token)
        {
            request.Headers.Remove(RelayAddresses.AuthorizationHeader);
            request.Headers.TryAddWithoutValidation(RelayAddresses.AuthorizationHeader, token);
        }

        return _http.SendAsync(request, cancellationToken);
    }

    /// <summary>Shorthand for a GET through <see cref="SendAsync"/>.</summary>
    public Task<HttpResponseMessage> GetAsync(string? relative = null, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, relative is null ? null : new Uri(relative, UriKind.Relative)), cancellationToken);

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
