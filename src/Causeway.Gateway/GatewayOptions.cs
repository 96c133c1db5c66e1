namespace Causeway.Gateway;

/// <summary>Settings of the gateway component (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    /// <summary>How often agents send a heartbeat; a member that misses three is offline and its connection is dropped.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Concurrent requests per member for new clusters (changeable per cluster).</summary>
    public int DefaultMemberConcurrencyLimit { get; set; } = 40;

    /// <summary>How long a Data API request through a gateway may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>One message per wrong setting, naming it.</summary>
    public IEnumerable<string> Validate()
    {
        if (HeartbeatInterval < TimeSpan.FromMilliseconds(100) || HeartbeatInterval > TimeSpan.FromMinutes(5))
        {
            yield return $"Gateway:HeartbeatInterval must be between 00:00:00.1 and 00:05:00 (it is {HeartbeatInterval}).";
        }

        if (DefaultMemberConcurrencyLimit is < 1 or > 10_000)
        {
            yield return $"Gateway:DefaultMemberConcurrencyLimit must be between 1 and 10000 (it is {DefaultMemberConcurrencyLimit}).";
        }

        if (RequestTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"Gateway:RequestTimeout must be at least 00:00:01 (it is {RequestTimeout}).";
        }
    }
}
