using Causeway.Connectors;

namespace Causeway.ApiManagement;

/// <summary>Configuration section <c>ApiManagement</c>. Validated at start-up; every message names the setting.</summary>
public sealed class ApiManagementOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ApiManagement";

    /// <summary>Largest request body <c>/apim</c> forwards, in bytes (413 above). Default 16 MB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Largest JSON response read into memory when a response-section body policy must rewrite it (updatenextlink,
    /// stringreplace ...), in bytes; bigger answers are streamed unchanged. Default 16 MB.
    /// </summary>
    public long MaxBufferedResponseBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Time allowed for the backend to start answering (status and headers), in seconds; then 504. Default 100.</summary>
    public double BackendTimeoutSeconds { get; set; } = 100;

    /// <summary>Time allowed to open a TCP/TLS connection to a backend, in seconds. Default 10.</summary>
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Retries of idempotent operations (GET, HEAD, OPTIONS, PUT, DELETE) on 429, 5xx or a failed connection. Default 2.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay in milliseconds; it doubles on each retry (with jitter). Default 200.</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 200;

    /// <summary>
    /// Test and air-gap feature: backend host name (as the connector or its policies produce it, port ignored) -> base URL
    /// to send to instead, for example <c>"api-free.deepl.com": "http://127.0.0.1:5080"</c>. The backend still receives the
    /// original Host header. Empty in production.
    /// </summary>
    public Dictionary<string, string> BackendOverrides { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Time allowed for a connector's custom code (script.csx) to answer one call, including the backend calls it makes,
    /// in seconds; then 504. Default 5, the limit of Microsoft's custom-code host.
    /// </summary>
    public double ScriptTimeoutSeconds { get; set; } = 5;

    /// <summary>Per-connection call limits.</summary>
    public ThrottlingOptions Throttling { get; set; } = new();

    /// <summary>The master key file; default <c>{data directory}/master.key</c>, created (mode 0600) on first start.</summary>
    public string? MasterKeyPath { get; set; }

    /// <summary>
    /// The public base URL of the platform (for example <c>https://causeway.example.com</c>), used in the OAuth redirect
    /// URI <c>{PublicBaseUrl}/apim/oauth/callback</c>. Default: the scheme and host of the request that creates the connection.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>One message per wrong setting.</summary>
    public IEnumerable<string> Validate()
    {
        if (MaxRequestBodyBytes < 1)
        {
            yield return $"{Section}:MaxRequestBodyBytes must be at least 1 (it is {MaxRequestBodyBytes}).";
        }

        if (MaxBufferedResponseBytes < 1)
        {
            yield return $"{Section}:MaxBufferedResponseBytes must be at least 1 (it is {MaxBufferedResponseBytes}).";
        }

        if (BackendTimeoutSeconds is <= 0 or > 3600)
        {
            yield return $"{Section}:BackendTimeoutSeconds must be above 0 and at most 3600 (it is {BackendTimeoutSeconds}).";
        }

        if (ConnectTimeoutSeconds is <= 0 or > 600)
        {
            yield return $"{Section}:ConnectTimeoutSeconds must be above 0 and at most 600 (it is {ConnectTimeoutSeconds}).";
        }

        if (MaxRetries is < 0 or > 10)
        {
            yield return $"{Section}:MaxRetries must be between 0 and 10 (it is {MaxRetries}).";
        }

        if (RetryBaseDelayMilliseconds is < 1 or > 60_000)
        {
            yield return $"{Section}:RetryBaseDelayMilliseconds must be between 1 and 60000 (it is {RetryBaseDelayMilliseconds}).";
        }

        if (ScriptTimeoutSeconds is <= 0 or > 600)
        {
            yield return $"{Section}:ScriptTimeoutSeconds must be above 0 and at most 600 (it is {ScriptTimeoutSeconds}).";
        }

        foreach (var (host, url) in BackendOverrides)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                yield return $"{Section}:BackendOverrides:{host} must be an absolute http or https URL such as http://127.0.0.1:5080 (it is '{url}').";
            }
        }

        foreach (var (name, limit) in Throttling.PerConnector.Prepend(new("", new ThrottleLimitOptions { PermitLimit = Throttling.PermitLimit, WindowSeconds = Throttling.WindowSeconds })))
        {
            var key = name.Length == 0 ? $"{Section}:Throttling" : $"{Section}:Throttling:PerConnector:{name}";
            if (limit.PermitLimit < 1)
            {
                yield return $"{key}:PermitLimit must be at least 1 (it is {limit.PermitLimit}).";
            }

            if (limit.WindowSeconds <= 0)
            {
                yield return $"{key}:WindowSeconds must be positive (it is {limit.WindowSeconds}).";
            }
        }

        if (PublicBaseUrl is { Length: > 0 } b && (!Uri.TryCreate(b, UriKind.Absolute, out var p) || p.Scheme is not ("http" or "https")))
        {
            yield return $"{Section}:PublicBaseUrl must be an absolute URL such as https://causeway.example.com (it is '{b}').";
        }
    }

    internal ConnectionThrottleOptions ToThrottleOptions()
    {
        var options = new ConnectionThrottleOptions { Default = new ThrottleLimit(Throttling.PermitLimit, TimeSpan.FromSeconds(Throttling.WindowSeconds)) };
        foreach (var (name, limit) in Throttling.PerConnector)
        {
            options.PerConnector[name] = new ThrottleLimit(limit.PermitLimit, TimeSpan.FromSeconds(limit.WindowSeconds));
        }

        return options;
    }
}

/// <summary>Section <c>ApiManagement:Throttling</c>: the default limit of a connection and limits per connector.</summary>
public sealed class ThrottlingOptions
{
    /// <summary>Calls per window of a connection whose connector has no limit of its own. Default 500 (the custom-connector limit).</summary>
    public int PermitLimit { get; set; } = 500;

    /// <summary>The window, in seconds. Default 60.</summary>
    public double WindowSeconds { get; set; } = 60;

    /// <summary>Limits by connector name.</summary>
    public Dictionary<string, ThrottleLimitOptions> PerConnector { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One connector's limit.</summary>
public sealed class ThrottleLimitOptions
{
    /// <summary>Calls per window.</summary>
    public int PermitLimit { get; set; } = 500;

    /// <summary>The window, in seconds.</summary>
    public double WindowSeconds { get; set; } = 60;
}
