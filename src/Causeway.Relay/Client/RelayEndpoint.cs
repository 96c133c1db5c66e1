using System.Globalization;
using Causeway.Relay.Protocol;
using Causeway.Security;

namespace Causeway.Relay.Client;

/// <summary>Addresses and tokens of one hybrid connection, as Microsoft's clients build them.</summary>
internal sealed class RelayEndpoint
{
    private readonly string? _keyName;
    private readonly string? _key;

    public RelayEndpoint(Uri relayAddress, string path, string? keyName, string? key)
    {
        ArgumentNullException.ThrowIfNull(relayAddress);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (keyName is null != key is null)
        {
            throw new ArgumentException("Give both the key name and the key, or neither.", nameof(keyName));
        }

        Host = relayAddress.Host;
        Port = relayAddress.IsDefaultPort && relayAddress.Scheme is "sb" ? 443 : relayAddress.Port;
        Path = RelayAddresses.TrimPath(path);
        _keyName = keyName;
        _key = key;
    }

    public string Host { get; }

    public int Port { get; }

    public string Path { get; }

    public bool HasKey => _key is not null;

    private string Authority => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private string EscapedPath => string.Join('/', Path.Split('/').Select(Uri.EscapeDataString));

    public Uri WebSocketUri(string action) =>
        new($"wss://{Authority}/{RelayAddresses.HcSegment}/{EscapedPath}?{RelayAddresses.Action}={action}&{RelayAddresses.Id}={Guid.NewGuid()}");

    public Uri HttpUri(string? relative)
    {
        var rest = string.IsNullOrEmpty(relative) ? "" : relative.StartsWith('/') || relative.StartsWith('?') ? relative : "/" + relative;
        return new Uri($"https://{Authority}/{EscapedPath}{rest}");
    }

    /// <summary>A token for <c>http://host/path</c> — no port, no $hc — exactly the resource Microsoft's clients sign.</summary>
    public string? CreateToken(TimeSpan lifetime, TimeProvider timeProvider) =>
        _key is null
            ? null
            : SharedAccessSignature.Create($"http://{Host}/{Path}", _keyName!, _key, timeProvider.GetUtcNow() + lifetime);
}
