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

/// <summary>
/// HTTP calls that a gateway agent makes on premises for a gateway connection of a custom connector (apiProperties
/// <c>gatewaySetting</c> with <c>dataSourceType: CustomConnector</c>): the backend lives inside the company network, so
/// the server builds the request and the agent sends it, adds the connection's credentials (which only it can open) and
/// streams the answer back.
/// </summary>
public static class GatewayHttp
{
    /// <summary>One HTTP call (body <see cref="HttpCallMessage"/>). Non-idempotent methods carry an idempotency key.</summary>
    public const string Call = "http.call";

    /// <summary>The backend cannot be reached from the gateway (connection refused, name unknown, TLS failed ...).</summary>
    public const string BackendUnreachable = "backend-unreachable";

    /// <summary>The backend did not start answering (status and headers) in the time the call allows.</summary>
    public const string BackendTimeout = "backend-timeout";

    /// <summary>The agent is set to call only some hosts, and this is not one of them.</summary>
    public const string HostNotAllowed = "host-not-allowed";

    /// <summary>The connection's credentials lack a value the injection needs.</summary>
    public const string CredentialsIncomplete = "credentials-incomplete";

    /// <summary>Injection kinds of <see cref="HttpCallCredentials"/>.</summary>
    public const string NoCredentials = "none";

    /// <summary>An API key in a header or query parameter.</summary>
    public const string ApiKey = "apiKey";

    /// <summary>HTTP basic.</summary>
    public const string Basic = "basic";
}

/// <summary>One header of an HTTP call or answer; a header with several values appears once per value.</summary>
public sealed record HttpCallHeader(string Name, string Value);

/// <summary>
/// How the agent adds a connection's credentials to an HTTP call. The values are in <see cref="Envelope"/>, the JSON object
/// of the connection's secret parameters sealed for the cluster's public key (<c>GatewayEnvelope</c>); the server cannot open it.
/// </summary>
/// <param name="Kind"><see cref="GatewayHttp.NoCredentials"/>, <see cref="GatewayHttp.ApiKey"/> or <see cref="GatewayHttp.Basic"/>.</param>
/// <param name="Envelope">The sealed secret parameters; null when the connection has none.</param>
/// <param name="In">API key: <c>header</c> or <c>query</c>.</param>
/// <param name="Name">API key: the header or query parameter name.</param>
/// <param name="Parameter">API key: the secret parameter that holds the key.</param>
/// <param name="Username">Basic: the user name when it is not a secret parameter (then it is not in the envelope).</param>
public sealed record HttpCallCredentials(string Kind, string? Envelope, string? In, string? Name, string? Parameter, string? Username);

/// <summary>
/// Body of <see cref="GatewayHttp.Call"/>: the backend request as the server built it (operation path, query, request
/// policies applied) without credentials. The agent answers with the backend's status, an <see cref="HttpCallResponseHead"/>
/// and the backend's body as it arrives; it fails the request (<see cref="BusException"/>) with one of the codes of
/// <see cref="GatewayHttp"/> when it cannot make the call. Holds nothing time-dependent, so a retry carries the same bytes.
/// </summary>
/// <param name="Url">Absolute http or https URL; the host may be a name only the agent's network knows.</param>
/// <param name="Headers">Request and content headers; a <c>Host</c> header overrides the URL's authority in the request.</param>
/// <param name="Body">The request body, or null.</param>
/// <param name="ResponseTimeoutSeconds">How long the backend may take to start answering; then <see cref="GatewayHttp.BackendTimeout"/>.</param>
public sealed record HttpCallMessage(Guid ClusterId, string Method, string Url, IReadOnlyList<HttpCallHeader> Headers, byte[]? Body, HttpCallCredentials Credentials,
    double ResponseTimeoutSeconds);

/// <summary>Head of an HTTP call's answer: the backend's response and content headers except hop-by-hop ones.</summary>
public sealed record HttpCallResponseHead(IReadOnlyList<HttpCallHeader> Headers);
