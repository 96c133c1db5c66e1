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

    /// <summary>
    /// How requests reach the agents: <c>websocket</c> (default; over each agent's own connection to this server) or
    /// <c>rabbitmq</c> (through a broker, for several server instances: one queue per cluster, see <see cref="RabbitMq"/>).
    /// </summary>
    public string Bus { get; set; } = WebSocketBus;

    /// <summary>The broker when <see cref="Bus"/> is <c>rabbitmq</c>.</summary>
    public GatewayRabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>The largest request sent to an agent (either transport).</summary>
    public int MaxMessageSize { get; set; } = Causeway.Bus.WebSocketBusConnection.DefaultMaxMessageSize;

    /// <summary>The value of <see cref="Bus"/> for the built-in transport.</summary>
    public const string WebSocketBus = "websocket";

    /// <summary>The value of <see cref="Bus"/> for the RabbitMQ transport.</summary>
    public const string RabbitMqBus = "rabbitmq";

    /// <summary>True when requests go through RabbitMQ.</summary>
    public bool UsesRabbitMq => string.Equals(Bus, RabbitMqBus, StringComparison.OrdinalIgnoreCase);

    /// <summary>One message per wrong setting, naming it.</summary>
    public IEnumerable<string> Validate()
    {
        if (!string.Equals(Bus, WebSocketBus, StringComparison.OrdinalIgnoreCase) && !UsesRabbitMq)
        {
            yield return $"Gateway:Bus must be 'websocket' or 'rabbitmq' (it is '{Bus}').";
        }

        // The URI holds the broker password: never echo it.
        if (UsesRabbitMq && (!System.Uri.TryCreate(RabbitMq.Uri, UriKind.Absolute, out var broker) || broker.Scheme is not ("amqp" or "amqps")))
        {
            yield return "Gateway:RabbitMq:Uri must be set to the broker's amqp:// or amqps:// URI (with user and password) when Gateway:Bus is 'rabbitmq'.";
        }

        if (MaxMessageSize is < 64 * 1024 or > Causeway.Bus.WebSocketBusConnection.DefaultMaxMessageSize)
        {
            yield return $"Gateway:MaxMessageSize must be between 65536 and {Causeway.Bus.WebSocketBusConnection.DefaultMaxMessageSize} bytes (it is {MaxMessageSize}).";
        }

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

/// <summary>The broker of the RabbitMQ transport (configuration section <c>Gateway:RabbitMq</c>).</summary>
public sealed class GatewayRabbitMqOptions
{
    /// <summary>
    /// <c>amqp://user:password@host:5672/vhost</c> or <c>amqps://...</c>: a broker user that may declare the bus exchanges
    /// and the clusters' queues and publish to them (an administrator of the virtual host). A secret: keep it out of logs.
    /// </summary>
    public string? Uri { get; set; }
}
