namespace Causeway.Bus;

/// <summary>The operations and messages the cloud and the gateway agent exchange over the bus.</summary>
public static class GatewayOperations
{
    /// <summary>A Data API read against one data source: service document, $metadata or an entity set query.</summary>
    public const string DataRequest = "data.request";

    /// <summary>
    /// Insert, update or delete one row of a connector connection's data source (body <see cref="DataWriteMessage"/>);
    /// the bus request must carry an idempotency key.
    /// </summary>
    public const string DataWrite = "connector.write";

    /// <summary>Notice types.</summary>
    public const string Hello = "hello";

    /// <summary>Sent by the server right after it accepts an agent.</summary>
    public const string Welcome = "welcome";

    /// <summary>Sent by the agent every heartbeat interval.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>The associated data every credential envelope of a cluster is sealed with.</summary>
    public static byte[] CredentialsAssociatedData(Guid clusterId) => System.Text.Encoding.UTF8.GetBytes($"causeway-gateway-credentials:{clusterId:D}");
}

/// <summary>A one-way message between server and agent.</summary>
public sealed record GatewayNotice(string Type)
{
    /// <summary>Agent version (hello, heartbeat).</summary>
    public string? Version { get; init; }

    /// <summary>Requests the agent is handling (heartbeat).</summary>
    public int? Active { get; init; }

    /// <summary>Cluster (welcome).</summary>
    public Guid? ClusterId { get; init; }

    /// <summary>Cluster name (welcome).</summary>
    public string? ClusterName { get; init; }

    /// <summary>Member (welcome).</summary>
    public Guid? MemberId { get; init; }

    /// <summary>Member name (welcome).</summary>
    public string? MemberName { get; init; }

    /// <summary>How often the agent must send a heartbeat (welcome); three missed ones mark it offline.</summary>
    public double? HeartbeatSeconds { get; init; }

    /// <summary>Where requests come from (welcome): <c>websocket</c> (this connection) or <c>rabbitmq</c> (the cluster's queue on the broker).</summary>
    public string? Bus { get; init; }

    /// <summary>Requests the member may take at once (welcome; the prefetch of its RabbitMQ consumer).</summary>
    public int? Concurrency { get; init; }

    /// <summary>The member's RabbitMQ consumer priority (welcome): higher ones get requests first.</summary>
    public int? ConsumerPriority { get; init; }
}

/// <summary>Where a data source is; never holds a secret (the API refuses unknown fields).</summary>
public sealed record DataSourceConnection(string? Host, int? Port, string? Database, string? Path);

/// <summary>A data source as the agent receives it: the credentials still sealed for the cluster's key.</summary>
public sealed record DataSourceDescriptor(Guid Id, string Name, string Type, DataSourceConnection Connection, string EncryptedCredentials, DateTimeOffset Version);

/// <summary>Body of <see cref="GatewayOperations.DataRequest"/>.</summary>
/// <param name="Kind"><c>service</c>, <c>metadata</c> or <c>query</c>.</param>
/// <param name="ServiceRoot">The public Data API root, for @odata.context and next links.</param>
/// <param name="MaxPageSize">From <c>Prefer: odata.maxpagesize</c>, if given.</param>
public sealed record DataRequestMessage(Guid ClusterId, DataSourceDescriptor DataSource, string Kind, string? EntitySet, string? Key,
    Dictionary<string, string> Options, string ServiceRoot, int? MaxPageSize);

/// <summary>Head of a data response.</summary>
public sealed record DataResponseHead(string ContentType, string? PreferenceApplied);

/// <summary>Error codes a gateway reports (also the Data API error codes).</summary>
public static class GatewayErrorCodes
{
    /// <summary>The data source does not answer.</summary>
    public const string DataSourceUnreachable = "DataSourceUnreachable";

    /// <summary>The data source refused the credentials.</summary>
    public const string DataSourceLoginFailed = "DataSourceLoginFailed";

    /// <summary>The credential envelope cannot be opened (tampered, or sealed for another key).</summary>
    public const string CredentialsUnreadable = "CredentialsUnreadable";

    /// <summary>No member of the cluster can take the request.</summary>
    public const string GatewayUnavailable = "GatewayUnavailable";
}

/// <summary>
/// RabbitMQ names of a gateway cluster, and the broker permissions its members' user needs: enough to consume its own
/// cluster's queue and to answer, nothing on any other cluster's queues.
/// </summary>
public static class GatewayQueues
{
    /// <summary>The work queue of a cluster; its members are the competing consumers.</summary>
    public static string ClusterQueue(Guid clusterId) => $"causeway.gateway.{clusterId:N}";

    /// <summary>Prefix of the exclusive control queue each member declares.</summary>
    public static string MemberControlPrefix(Guid clusterId) => $"causeway.gateway.{clusterId:N}.member.";

    /// <summary>The user name to create on the broker for a cluster's members (a convention; any name works).</summary>
    public static string MemberUser(Guid clusterId) => $"causeway-gateway-{clusterId:N}";

    /// <summary>
    /// The permissions (configure, write, read regular expressions on the virtual host) of a cluster's member user:
    /// configure its cluster queue and its own control queues; write (publish) only to the replies exchange and bind its
    /// control queues; read (consume) its cluster queue and control queues and bind from the control exchange.
    /// </summary>
    public static (string Configure, string Write, string Read) MemberPermissions(Guid clusterId)
    {
        var queue = System.Text.RegularExpressions.Regex.Escape(ClusterQueue(clusterId));
        var replies = System.Text.RegularExpressions.Regex.Escape(RabbitMqBusTopology.RepliesExchange);
        var control = System.Text.RegularExpressions.Regex.Escape(RabbitMqBusTopology.ControlExchange);
        return ($"^{queue}(\\.member\\.[0-9a-f]+)?$", $"^({replies}|{queue}\\.member\\.[0-9a-f]+)$", $"^({control}|{queue}(\\.member\\.[0-9a-f]+)?)$");
    }
}

/// <summary>
/// Body of <see cref="GatewayOperations.DataWrite"/>. The agent answers 201 (insert) or 200 (update) with the row as
/// OData JSON, 204 for a delete, or the Data engine's error (<c>{"error":{"code","message"}}</c>) with its status.
/// </summary>
/// <param name="Kind"><c>insert</c>, <c>update</c> or <c>delete</c>.</param>
/// <param name="Key">The OData key literal (<c>5</c>, <c>'ALFKI'</c>); null for an insert.</param>
/// <param name="Row">The columns to set; null for a delete.</param>
/// <param name="ServiceRoot">Base of the row's <c>@odata.context</c>.</param>
public sealed record DataWriteMessage(Guid ClusterId, DataSourceDescriptor DataSource, string Kind, string EntitySet, string? Key, System.Text.Json.JsonElement? Row, string ServiceRoot);
