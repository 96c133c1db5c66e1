using Microsoft.Extensions.Options;

namespace Causeway.Relay;

/// <summary>
/// Settings of the relay. The port it listens on is the host's business; these are the limits, timeouts and the
/// public name under which clients reach it. Validated at start-up (see <see cref="RelayOptionsValidator"/>).
/// </summary>
public sealed class RelayOptions
{
    /// <summary>Path of the SQLite file holding hybrid connections and their keys. Required.</summary>
    public string DatabasePath { get; set; } = "";

    /// <summary>Host name announced in <c>sb://host:port/</c> endpoints and connection strings.</summary>
    public string PublicHostName { get; set; } = "localhost";

    /// <summary>Port announced in <c>sb://host:port/</c> endpoints and connection strings.</summary>
    public int PublicPort { get; set; } = 5671;

    /// <summary>Most listeners (control channels) one hybrid connection accepts at once. Azure's limit is 25.</summary>
    public int MaxListenersPerHybridConnection { get; set; } = 25;

    /// <summary>Most connections or requests per hybrid connection waiting for a listener to rendezvous; more get 503.</summary>
    public int MaxPendingRendezvousPerHybridConnection { get; set; } = 100;

    /// <summary>How long a rendezvous address stays valid for the listener (Azure: about 30 s).</summary>
    public TimeSpan RendezvousTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an HTTP-mode request waits for the listener's response before the sender gets 504 (Azure: 60 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>WebSocket keep-alive (ping) interval on every socket the relay accepts.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the relay waits for the pong to its keep-alive ping before it drops a socket, so that a listener whose
    /// machine vanished leaves the round robin. <see cref="Timeout.InfiniteTimeSpan"/> only pings, never drops.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Largest WebSocket message relayed between sender and listener; a bigger one closes both sides with 1009.</summary>
    public long MaxMessageSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>Largest control-channel message (JSON command or HTTP body frame); a bigger one closes the channel with 1009.</summary>
    public int MaxControlMessageSize { get; set; } = 256 * 1024;

    /// <summary>
    /// Largest HTTP-mode request body sent inline on the control channel; bigger (or unknown-length) bodies go over a
    /// rendezvous socket. 64 kB is the protocol's figure and what Microsoft's listeners expect.
    /// </summary>
    public int MaxInlineBodySize { get; set; } = 64 * 1024;
}

/// <summary>Validates <see cref="RelayOptions"/> with messages that name the setting and say what would fix it.</summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            errors.Add("RelayOptions.DatabasePath is empty: set it to the path of the relay's SQLite file, e.g. '<data dir>/relay.db'.");
        }

        if (string.IsNullOrWhiteSpace(options.PublicHostName) || Uri.CheckHostName(options.PublicHostName) == UriHostNameType.Unknown)
        {
            errors.Add($"RelayOptions.PublicHostName '{options.PublicHostName}' is not a host name: set the DNS name or IP address clients use to reach the relay.");
        }

        if (options.PublicPort is < 1 or > 65535)
        {
            errors.Add($"RelayOptions.PublicPort {options.PublicPort} is out of range: use the relay's HTTPS port (1-65535).");
        }

        if (options.MaxListenersPerHybridConnection < 1)
        {
            errors.Add("RelayOptions.MaxListenersPerHybridConnection must be at least 1 (Azure allows 25).");
        }

        if (options.MaxPendingRendezvousPerHybridConnection < 1)
        {
            errors.Add("RelayOptions.MaxPendingRendezvousPerHybridConnection must be at least 1.");
        }

        Positive(errors, nameof(RelayOptions.RendezvousTimeout), options.RendezvousTimeout);
        Positive(errors, nameof(RelayOptions.RequestTimeout), options.RequestTimeout);
        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            errors.Add("RelayOptions.KeepAliveInterval must not be negative (TimeSpan.Zero turns pings off).");
        }

        if (options.KeepAliveTimeout <= TimeSpan.Zero && options.KeepAliveTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add("RelayOptions.KeepAliveTimeout must be positive, e.g. '00:01:00', or Timeout.InfiniteTimeSpan to never drop silent sockets.");
        }

        if (options.MaxMessageSize < 1024)
        {
            errors.Add($"RelayOptions.MaxMessageSize {options.MaxMessageSize} is too small: use at least 1024 bytes.");
        }

        if (options.MaxInlineBodySize < 0)
        {
            errors.Add("RelayOptions.MaxInlineBodySize must not be negative.");
        }

        if (options.MaxControlMessageSize < options.MaxInlineBodySize + 1024)
        {
            errors.Add($"RelayOptions.MaxControlMessageSize {options.MaxControlMessageSize} must exceed MaxInlineBodySize ({options.MaxInlineBodySize}) by at least 1024 bytes so inline bodies and their headers fit.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"RelayOptions.{name} must be positive, e.g. '00:00:30'.");
        }
    }
}
