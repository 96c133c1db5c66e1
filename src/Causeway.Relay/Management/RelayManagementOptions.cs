namespace Causeway.Relay.Management;

/// <summary>How the management API is protected; supplied by the host.</summary>
public sealed class RelayManagementOptions
{
    /// <summary>Authorization policy every management endpoint requires; null leaves authorization to the host.</summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// Whether the caller may see keys and connection strings (callers with the Manage right). Defaults to yes: the host
    /// narrows it. Without it, responses list rules and rights but no secrets.
    /// </summary>
    public Func<HttpContext, bool> CanReadSecrets { get; set; } = static _ => true;
}
