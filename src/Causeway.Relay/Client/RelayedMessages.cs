namespace Causeway.Relay.Client;

/// <summary>A sender asking to connect; the accept handler may reject it by setting a status.</summary>
public sealed class RelayedConnectionRequest
{
    internal RelayedConnectionRequest(string id, IReadOnlyDictionary<string, string> headers, string? remoteAddress, int remotePort)
    {
        Id = id;
        Headers = headers;
        RemoteAddress = remoteAddress;
        RemotePort = remotePort;
    }

    /// <summary>The relay's id of this connection.</summary>
    public string Id { get; }

    /// <summary>The sender's handshake headers (without its relay token).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? RemoteAddress { get; }

    public int RemotePort { get; }

    /// <summary>Status the sender gets when the handler rejects (default 403).</summary>
    public int RejectStatusCode { get; set; } = 403;

    /// <summary>Description the sender gets when the handler rejects.</summary>
    public string RejectDescription { get; set; } = "Rejected by the listener";
}

/// <summary>An HTTP-mode request received by a listener. The body is buffered (up to <see cref="RelayClientOptions.MaxRequestBodySize"/>).</summary>
public sealed record RelayedHttpRequest(
    string Method,
    string RequestTarget,
    IReadOnlyDictionary<string, string> Headers,
    ReadOnlyMemory<byte> Body,
    string? RemoteAddress,
    int RemotePort);

/// <summary>The listener's answer to a <see cref="RelayedHttpRequest"/>. Bodies over 64 kB go over a rendezvous socket.</summary>
public sealed record RelayedHttpResponse(int StatusCode, ReadOnlyMemory<byte> Body = default)
{
    public string? StatusDescription { get; init; }

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}
