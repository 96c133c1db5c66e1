using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Connectors;
using Causeway.Environments;
using Causeway.Gateway;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Causeway.ApiManagement;

/// <summary>
/// Gateway connections: sealing their credentials for the gateway cluster when they are made, and running their
/// operations on a member of the cluster (over the gateway bus) instead of calling a backend from the server.
/// <list type="bullet">
/// <item>The built-in "SQL via gateway" connector: reads are the agent's Data API requests
/// (<see cref="GatewayOperations.DataRequest"/>) against a data source described by the connection; writes are
/// <see cref="GatewayOperations.DataWrite"/> with an idempotency key.</item>
/// <item>Custom connectors (a <c>gatewaySetting</c> of <c>dataSourceType: CustomConnector</c>, or capability
/// <c>gateway</c>): the backend request is built here as the cloud path builds it (path, query, request policies) but
/// without credentials, and sent as <see cref="GatewayHttp.Call"/>; the agent adds the credentials from the connection's
/// envelope, which only it can open, and calls the backend on premises. Response policies run here.</item>
/// </list>
/// Answers stream back to the caller as the agent produces them. Thread-safe.
/// </summary>
internal sealed partial class GatewayCalls(
    GatewayConnections gateways,
    ConnectionStore connections,
    EnvironmentService environments,
    BackendClient backend,
    IOptions<ApiManagementOptions> options,
    ILogger<GatewayCalls> logger)
{
    /// <summary>Where a gateway connection keeps its cluster id when the connector has no gatewaySetting parameter.</summary>
    public const string GatewayValue = "gateway";

    /// <summary>Caller header whose value makes a write's idempotency key (per connection); without it every call is a new write.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    private const int MaxTablesAnswerBytes = 4 * 1024 * 1024;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    // GetTables answers in the SQL connector's own casing (Name, DisplayName).
    private static readonly JsonSerializerOptions AsWritten = new();

    private static readonly HashSet<string> IdempotentMethods = new(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"], StringComparer.OrdinalIgnoreCase);

    public static bool IsSqlGateway(ConnectorDefinition connector) =>
        connector.IsBuiltIn && string.Equals(connector.Name, BuiltInConnectors.SqlGatewayName, StringComparison.Ordinal);

    /// <summary>The gateway cluster a connection uses, or null when it is not a gateway connection.</summary>
    public static Guid? ClusterOf(ConnectionRecord connection, ConnectorDefinition? connector)
    {
        var name = connector?.ConnectionParameters.Concat(connector.ConnectionParameterSets.SelectMany(s => s.Parameters))
            .FirstOrDefault(p => p.Type == ConnectionParameterType.GatewaySetting)?.Name ?? GatewayValue;
        return connector?.RequiresGateway == true && connection.Values.TryGetValue(name, out var value) && Guid.TryParse(value, out var id) ? id : null;
    }

    /// <summary>
    /// Checks the cluster (the tenant's, serving the environment's geography) and replaces the plan's secret parameters by
    /// one envelope sealed for the cluster's public key; null with the field and message when something is wrong.
    /// </summary>
    public static async Task<(ConnectionsApi.ConnectionPlan? Plan, (string Field, string Message)? Error)> SealForGatewayAsync(
        GatewayConnections gateways, Guid tenantId, EnvironmentRecord environment, ConnectorDefinition connector, ConnectionsApi.ConnectionPlan plan, Guid clusterId,
        CancellationToken cancellationToken)
    {
        var cluster = await gateways.FindClusterAsync(tenantId, clusterId, cancellationToken);
        if (cluster is null)
        {
            return (null, ("gateway", $"The tenant has no gateway cluster '{clusterId}' (GET /api/v1/gateways lists them)."));
        }

        if (!GatewayConnections.Serves(cluster, environment.Geography))
        {
            return (null, ("gateway", $"Gateway cluster '{cluster.Name}' serves geography '{cluster.Geography}', but environment '{environment.Name}' is in '{environment.Geography}'; " +
                "a connection can only use a gateway of its environment's geography."));
        }

        if (IsSqlGateway(connector) && SqlTarget.Validate(plan.Values) is { } problem)
        {
            return (null, problem);
        }

        var clear = JsonSerializer.SerializeToUtf8Bytes(plan.Secrets.Parameters);
        try
        {
            var envelope = GatewayConnections.Seal(cluster, clear);
            return (plan with { Secrets = new ConnectionSecrets { GatewayCredentials = envelope } }, null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    /// <summary>
    /// <c>POST .../test</c> of a gateway connection. SQL: the gateway opens the data source and reads its tables. A custom
    /// connector: Connected when its credentials can be injected and the cluster has a member online, else the reason.
    /// </summary>
    public async Task<(string Status, string? Reason)> TestAsync(ConnectionRecord connection, ConnectorDefinition connector, CancellationToken cancellationToken)
    {
        if (!IsSqlGateway(connector))
        {
            return await TestHttpAsync(connection, connector, cancellationToken);
        }

        var (cluster, source, problem) = await ResolveAsync(connection, connector, cancellationToken);
        if (problem is not null)
        {
            return (ConnectionStatus.Error, problem.Value.Message);
        }

        try
        {
            var message = new DataRequestMessage(cluster!.Id, source!, "service", null, null, [], "https://localhost/", null);
            await using var response = await gateways.SendAsync(cluster, GatewayOperations.DataRequest, message, null, cancellationToken);
            var answer = await ReadLimitedAsync(response.Body, MaxTablesAnswerBytes, cancellationToken);
            return response.Status == 200
                ? (ConnectionStatus.Connected, null)
                : (ConnectionStatus.Error, $"the gateway answered {response.Status}: {ErrorMessage(answer)}");
        }
        catch (GatewayUnavailableException e)
        {
            return (ConnectionStatus.Error, e.Message);
        }
        catch (BusException e)
        {
            return (ConnectionStatus.Error, e.Message);
        }
        catch (IOException)
        {
            return (ConnectionStatus.Error, $"the answer of gateway cluster '{cluster!.Name}' was cut short");
        }
    }

    /// <summary>Runs a matched operation of a gateway connector and writes the answer.</summary>
    public async Task HandleAsync(HttpContext context, ConnectorDefinition connector, ConnectionRecord connection, OperationMatch match, byte[]? body, ApimRuntime.CallOutcome outcome)
    {
        var ct = context.RequestAborted;
        if (!IsSqlGateway(connector))
        {
            await HandleHttpAsync(context, connector, connection, match, body, outcome);
            return;
        }

        var (cluster, source, problem) = await ResolveAsync(connection, connector, ct);
        if (problem is { } p)
        {
            await ProblemAsync(context, p.Status, p.Status == 404 ? "Not Found" : "Conflict", p.Message, null, outcome);
            return;
        }

        var parameters = match.PathParameters;
        var dataset = parameters.GetValueOrDefault("dataset") ?? "default";
        var database = connection.Values.GetValueOrDefault(SqlTarget.Database);
        if (!string.Equals(dataset, "default", StringComparison.OrdinalIgnoreCase) && !string.Equals(dataset, database, StringComparison.OrdinalIgnoreCase))
        {
            await ProblemAsync(context, 404, "Not Found", $"Dataset '{Shorten(dataset)}' was not found: this connection's dataset is 'default' (or its database's name).", null, outcome);
            return;
        }

        var frontend = $"{context.Request.Scheme}://{context.Request.Host}/apim/{connector.Name}/{connection.Id}";
        var tablesRoot = $"{frontend}/v2/datasets/{Uri.EscapeDataString(dataset)}/tables/";
        var table = parameters.GetValueOrDefault("table");
        var key = parameters.TryGetValue("id", out var id) ? KeyLiteral(id) : null;
        switch (match.Operation.OperationId)
        {
            case "GetTables":
                await ListTablesAsync(context, cluster!, source!, tablesRoot, outcome);
                return;
            case "GetItems" or "GetItemsNextPage" or "GetItem":
                var options = context.Request.Query.Where(q => q.Key.StartsWith('$')).ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
                var read = new DataRequestMessage(cluster!.Id, source!, "query", table, key, options, tablesRoot, MaxPageSize(context.Request));
                if (await SendAsync(context, cluster, GatewayOperations.DataRequest, read, null, outcome) is { } rows)
                {
                    await RelayAsync(context, cluster, rows);
                }

                return;
            case "PostItem" or "PatchItem" or "DeleteItem":
                JsonElement? row = null;
                if (match.Operation.OperationId != "DeleteItem")
                {
                    try
                    {
                        row = body is { Length: > 0 } ? JsonDocument.Parse(body).RootElement.Clone() : null;
                    }
                    catch (JsonException e)
                    {
                        await ProblemAsync(context, 400, "Bad Request", $"The row is not valid JSON: {e.Message}", null, outcome);
                        return;
                    }

                    if (row is not { ValueKind: JsonValueKind.Object })
                    {
                        await ProblemAsync(context, 400, "Bad Request", "The row must be a JSON object of column values.", null, outcome);
                        return;
                    }
                }

                var kind = match.Operation.OperationId switch { "PostItem" => "insert", "PatchItem" => "update", _ => "delete" };
                var write = new DataWriteMessage(cluster!.Id, source!, kind, table ?? "", key, row, tablesRoot);
                if (await SendAsync(context, cluster, GatewayOperations.DataWrite, write, IdempotencyKey(context, connection), outcome) is { } written)
                {
                    await RelayAsync(context, cluster, written);
                }

                return;
            default:
                await ProblemAsync(context, 501, "Not Implemented", $"Operation '{match.Operation.OperationId}' is not run on gateways.", null, outcome);
                return;
        }
    }

    /// <summary><c>/test</c> of a custom connector's gateway connection: cluster, region, credentials and an online member.</summary>
    private async Task<(string Status, string? Reason)> TestHttpAsync(ConnectionRecord connection, ConnectorDefinition connector, CancellationToken cancellationToken)
    {
        var (cluster, problem) = await ClusterForCallAsync(connection, connector, cancellationToken);
        if (problem is not null)
        {
            return (ConnectionStatus.Error, problem.Value.Message);
        }

        var envelope = connections.Unseal(connection).GatewayCredentials;
        var (_, credentialProblem) = CredentialsFor(connector, connection, envelope, new ApimRequest());
        if (credentialProblem is not null)
        {
            return (ConnectionStatus.Error, credentialProblem);
        }

        return await gateways.UnavailableReasonAsync(cluster!, cancellationToken) is { } reason
            ? (ConnectionStatus.Error, reason)
            : (ConnectionStatus.Connected, null);
    }

    /// <summary>
    /// A custom connector's operation through the gateway: the backend request built as on the cloud path but without
    /// credentials, sent to a member as <see cref="GatewayHttp.Call"/>, the answer copied back with the response policies.
    /// </summary>
    private async Task HandleHttpAsync(HttpContext context, ConnectorDefinition connector, ConnectionRecord connection, OperationMatch match, byte[]? body, ApimRuntime.CallOutcome outcome)
    {
        var ct = context.RequestAborted;
        var (cluster, problem) = await ClusterForCallAsync(connection, connector, ct);
        if (problem is { } p)
        {
            await ProblemAsync(context, p.Status, p.Status == 404 ? "Not Found" : "Conflict", p.Message, null, outcome);
            return;
        }

        var query = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in context.Request.Query)
        {
            query.AddRange(values.Select(v => new KeyValuePair<string, string>(key, v ?? "")));
        }

        // As on the cloud path, the caller's platform token and cookies never reach the backend.
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in context.Request.Headers)
        {
            if (!string.Equals(key, "Authorization", StringComparison.OrdinalIgnoreCase) && !string.Equals(key, "Cookie", StringComparison.OrdinalIgnoreCase))
            {
                headers.AddRange(values.Select(v => new KeyValuePair<string, string>(key, v ?? "")));
            }
        }

        System.Text.Json.Nodes.JsonNode? json = null;
        if (body is { Length: > 0 } && PolicyPipeline.ReadsBody(connector, match.Operation, PolicySection.Request) && IsJson(context.Request.ContentType))
        {
            try
            {
                json = System.Text.Json.Nodes.JsonNode.Parse(body);
            }
            catch (JsonException e)
            {
                await ProblemAsync(context, 400, "Bad Request", $"The request body is not valid JSON, which operation '{match.Operation.OperationId}' needs: {e.Message}", null, outcome);
                return;
            }
        }

        var request = BackendRequestFactory.Create(connector, match, query, headers, json, json is null ? body : null);
        var envelope = connections.Unseal(connection).GatewayCredentials;
        var (credentials, credentialProblem) = CredentialsFor(connector, connection, envelope, request);
        if (credentials is null)
        {
            await ProblemAsync(context, 409, "Conflict", $"Connection '{connection.Id}' lacks a credential: {credentialProblem}.", null, outcome);
            return;
        }

        var frontend = new Uri($"{context.Request.Scheme}://{context.Request.Host}/apim/{connector.Name}/{connection.Id}");
        var policy = new PolicyContext(connector, match.Operation, request, connection.Values)
        {
            PathParameters = match.PathParameters,
            FrontendBaseUri = frontend,
            IncomingHeaders = headers,
        };
        Uri uri;
        try
        {
            await PolicyPipeline.ApplyRequestAsync(policy, ct);
            uri = request.ToUri();
        }
        catch (PolicyException e)
        {
            await ProblemAsync(context, 400, "Bad Request", $"Operation '{match.Operation.OperationId}': {e.Message}.", null, outcome);
            return;
        }
        catch (UriFormatException)
        {
            await ProblemAsync(context, 502, "Bad Gateway", $"Operation '{match.Operation.OperationId}' has no valid backend URL: the connector's host and its policies give none.", null, outcome);
            return;
        }

        // ApiManagement:BackendOverrides apply as on the cloud path: the agent connects to the override and sends the original Host.
        var (target, host) = backend.Resolve(uri);
        var outgoing = new List<HttpCallHeader>(request.Headers.Count + 2);
        foreach (var (name, value) in request.Headers)
        {
            if (!string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase) && !string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                outgoing.Add(new HttpCallHeader(name, value));
            }
        }

        if (host is not null)
        {
            outgoing.Add(new HttpCallHeader("Host", host));
        }

        byte[]? content = request.Json is { } j ? JsonSerializer.SerializeToUtf8Bytes(j) : request.RawBody?.ToArray();
        if (request.Json is not null && !request.Headers.Contains("Content-Type"))
        {
            outgoing.Add(new HttpCallHeader("Content-Type", "application/json"));
        }

        var call = new HttpCallMessage(cluster!.Id, request.Method, target.OriginalString, outgoing, content, credentials, options.Value.BackendTimeoutSeconds);
        var idempotencyKey = IdempotentMethods.Contains(request.Method) ? null : IdempotencyKey(context, connection);
        if (await SendAsync(context, cluster, GatewayHttp.Call, call, idempotencyKey, outcome) is { } response)
        {
            await WriteHttpAnswerAsync(context, connector, connection, policy, cluster, response);
        }
    }

    /// <summary>The cluster of a custom connector's gateway connection if it exists and serves the environment's geography, else the status and reason.</summary>
    private async Task<(GatewayCluster? Cluster, (int Status, string Message)? Problem)> ClusterForCallAsync(ConnectionRecord connection, ConnectorDefinition connector, CancellationToken cancellationToken)
    {
        if (ClusterOf(connection, connector) is not { } clusterId)
        {
            return (null, (409, $"Connection '{connection.Id}' names no gateway cluster; create it again with \"gateway\"."));
        }

        var cluster = await gateways.FindClusterAsync(connection.TenantId, clusterId, cancellationToken);
        if (cluster is null)
        {
            return (null, (409, $"Gateway cluster '{clusterId}' of connection '{connection.Id}' no longer exists; create the connection again with another gateway."));
        }

        var environment = await environments.FindAsync(connection.TenantId, connection.EnvironmentId, cancellationToken);
        if (environment is null)
        {
            return (null, (404, $"The environment of connection '{connection.Id}' no longer exists."));
        }

        return GatewayConnections.Serves(cluster, environment.Geography)
            ? (cluster, null)
            : (null, (409, $"Gateway cluster '{cluster.Name}' serves geography '{cluster.Geography}', but environment '{environment.Name}' is in '{environment.Geography}'."));
    }

    /// <summary>
    /// How the agent injects the connection's credentials, following <see cref="CredentialInjector"/>'s rules (API key in the
    /// conventional <c>api_key</c> or the only securestring parameter; basic from <c>username</c> and <c>password</c>; the
    /// first scheme the connection has values for). A value that is not secret (kept in clear with the connection) is added
    /// to <paramref name="request"/> here. OAuth 2.0 is not available through a gateway. Null with the reason when none fits.
    /// </summary>
    internal static (HttpCallCredentials? Credentials, string? Problem) CredentialsFor(ConnectorDefinition connector, ConnectionRecord connection, string? envelope, ApimRequest request)
    {
        var parameters = connector.ConnectionParameters.Concat(connector.ConnectionParameterSets.SelectMany(s => s.Parameters)).ToList();
        var sealedNames = parameters.Where(p => p.IsSecret && p.Type != ConnectionParameterType.OAuthSetting).Select(p => p.Name)
            .Where(n => !connection.Values.ContainsKey(n)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        bool Has(string name) => (envelope is not null && sealedNames.Contains(name)) || connection.Values.ContainsKey(name);
        var none = new HttpCallCredentials(GatewayHttp.NoCredentials, null, null, null, null, null);
        if (connector.SecuritySchemes.Count == 0)
        {
            return parameters.Any(p => p.Type == ConnectionParameterType.OAuthSetting)
                ? (null, $"connector '{connector.Name}' signs calls with OAuth 2.0, which gateway connections do not support (their credentials go to the gateway)")
                : (none, null);
        }

        string? first = null;
        foreach (var scheme in connector.SecuritySchemes)
        {
            switch (scheme.Kind)
            {
                case SecuritySchemeKind.ApiKey:
                    var secure = parameters.Where(p => p.Type == ConnectionParameterType.SecureString).Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                    var name = Has(CredentialInjector.ApiKeyParameter) ? CredentialInjector.ApiKeyParameter : secure.Count == 1 ? secure[0] : CredentialInjector.ApiKeyParameter;
                    if (connection.Values.TryGetValue(name, out var clear))
                    {
                        // Not a secret parameter: the server has it anyway.
                        if (scheme.In == "query")
                        {
                            request.Query.Set(scheme.ParameterName!, clear);
                        }
                        else
                        {
                            request.Headers.Set(scheme.ParameterName!, clear);
                        }

                        return (none, null);
                    }

                    if (Has(name))
                    {
                        return (new HttpCallCredentials(GatewayHttp.ApiKey, envelope, scheme.In == "query" ? "query" : "header", scheme.ParameterName, name, null), null);
                    }

                    first ??= $"the connection has no value for '{name}' (API key)";
                    break;
                case SecuritySchemeKind.Basic:
                    if (Has("username") && Has("password"))
                    {
                        return (new HttpCallCredentials(GatewayHttp.Basic, envelope, null, null, null, connection.Values.GetValueOrDefault("username")), null);
                    }

                    first ??= "the connection needs 'username' and 'password' (basic authentication)";
                    break;
                default:
                    first ??= $"connector '{connector.Name}' signs calls with OAuth 2.0, which gateway connections do not support (their credentials go to the gateway)";
                    break;
            }
        }

        return (null, first);
    }

    /// <summary>
    /// Copies the agent's answer (the backend's) to the caller with the response policies: a JSON body that a body policy
    /// rewrites is read whole (up to ApiManagement:MaxBufferedResponseBytes), anything else streams through as it arrives.
    /// </summary>
    private async Task WriteHttpAnswerAsync(HttpContext context, ConnectorDefinition connector, ConnectionRecord connection, PolicyContext policy, GatewayCluster cluster, IBusResponse response)
    {
        var ct = context.RequestAborted;
        await using (response)
        {
            var head = response.Head.IsEmpty ? null : JsonSerializer.Deserialize<HttpCallResponseHead>(response.Head.Span, Web);
            var answer = new ApimResponse { StatusCode = response.Status };
            foreach (var header in head?.Headers ?? [])
            {
                answer.Headers.Add(header.Name, header.Value);
            }

            var limit = options.Value.MaxBufferedResponseBytes;
            var length = long.TryParse(answer.Headers["Content-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : (long?)null;
            byte[]? prefix = null;
            var buffered = false;
            try
            {
                if (PolicyPipeline.ReadsBody(connector, policy.Operation, PolicySection.Response) && IsJson(answer.Headers["Content-Type"]) && length is null or > 0 && (length ?? 0) <= limit)
                {
                    var (bytes, complete) = await ReadUpToAsync(response.Body, limit, ct);
                    if (complete)
                    {
                        buffered = true;
                        try
                        {
                            answer.Json = System.Text.Json.Nodes.JsonNode.Parse(bytes);
                        }
                        catch (JsonException)
                        {
                            // Not JSON after all: the caller gets the backend's bytes unchanged.
                            answer.RawBody = bytes;
                        }
                    }
                    else
                    {
                        prefix = bytes;
                    }
                }
            }
            catch (IOException e)
            {
                Log.CutShort(logger, cluster.Id, e.Message);
                await ProblemAsync(context, 502, "Bad Gateway", $"The answer of gateway cluster '{cluster.Name}' was cut short.", null, new ApimRuntime.CallOutcome());
                return;
            }

            if (await ResponseWriting.WriteHeadAsync(context, connections, logger, connector, connection, policy, answer, buffered, ct) is not null)
            {
                return;
            }

            // Streamed as the agent sends it; nothing is buffered beyond one chunk.
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                if (prefix is { Length: > 0 })
                {
                    await context.Response.Body.WriteAsync(prefix, ct);
                }

                await response.Body.CopyToAsync(context.Response.Body, 32 * 1024, ct);
            }
            catch (IOException e)
            {
                Log.CutShort(logger, cluster.Id, e.Message);
                context.Abort();
            }
        }
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; complete is false when the stream had more (the bytes read are returned to be sent first).</summary>
    private static async Task<(byte[] Bytes, bool Complete)> ReadUpToAsync(Stream stream, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return (buffer.ToArray(), false);
            }
        }

        return (buffer.ToArray(), true);
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The cluster and the data source a connection describes, or why it cannot be used (status 409 or 404).</summary>
    private async Task<(GatewayCluster? Cluster, DataSourceDescriptor? Source, (int Status, string Message)? Problem)> ResolveAsync(
        ConnectionRecord connection, ConnectorDefinition connector, CancellationToken cancellationToken)
    {
        if (ClusterOf(connection, connector) is not { } clusterId)
        {
            return (null, null, (409, $"Connection '{connection.Id}' names no gateway cluster; create it again with \"gateway\"."));
        }

        var cluster = await gateways.FindClusterAsync(connection.TenantId, clusterId, cancellationToken);
        if (cluster is null)
        {
            return (null, null, (409, $"Gateway cluster '{clusterId}' of connection '{connection.Id}' no longer exists; create the connection again with another gateway."));
        }

        var envelope = connections.Unseal(connection).GatewayCredentials;
        if (envelope is null)
        {
            return (null, null, (409, $"Connection '{connection.Id}' holds no credentials sealed for its gateway; create it again."));
        }

        var source = SqlTarget.Describe(connection, envelope);
        return (cluster, source, null);
    }

    private async Task ListTablesAsync(HttpContext context, GatewayCluster cluster, DataSourceDescriptor source, string root, ApimRuntime.CallOutcome outcome)
    {
        var message = new DataRequestMessage(cluster.Id, source, "service", null, null, [], root, null);
        if (await SendAsync(context, cluster, GatewayOperations.DataRequest, message, null, outcome) is not { } response)
        {
            return;
        }

        await using (response)
        {
            byte[]? answer;
            try
            {
                answer = await ReadLimitedAsync(response.Body, MaxTablesAnswerBytes, context.RequestAborted);
            }
            catch (IOException)
            {
                await ProblemAsync(context, 502, "Bad Gateway", $"The answer of gateway cluster '{cluster.Name}' was cut short.", null, outcome);
                return;
            }

            if (response.Status != 200 || answer is null)
            {
                await ProblemAsync(context, 502, "Bad Gateway", $"Gateway cluster '{cluster.Name}' could not list the tables: {ErrorMessage(answer)}", null, outcome);
                return;
            }

            // The service document's entity sets, in the shape of the SQL connector's GetTables.
            using var document = JsonDocument.Parse(answer);
            var tables = document.RootElement.GetProperty("value").EnumerateArray()
                .Select(e => e.GetProperty("name").GetString()!)
                .Select(name => new { Name = name, DisplayName = name })
                .ToList();
            context.Response.StatusCode = 200;
            await context.Response.WriteAsJsonAsync(new { value = tables }, AsWritten, context.RequestAborted);
        }
    }

    private async Task<IBusResponse?> SendAsync<T>(HttpContext context, GatewayCluster cluster, string operation, T message, string? idempotencyKey, ApimRuntime.CallOutcome outcome)
    {
        outcome.Attempts++;
        try
        {
            return await gateways.SendAsync(cluster, operation, message, idempotencyKey, context.RequestAborted);
        }
        catch (GatewayUnavailableException e)
        {
            await ProblemAsync(context, 503, "Service Unavailable", e.Message, GatewayErrorCodes.GatewayUnavailable, outcome);
        }
        catch (BusException e)
        {
            var (status, title) = e.Kind switch
            {
                BusErrorKind.DeadlineExceeded => (504, "Gateway Timeout"),
                BusErrorKind.Busy => (503, "Service Unavailable"),
                BusErrorKind.MessageTooLarge => (413, "Payload Too Large"),
                _ when e.Code == GatewayHttp.BackendTimeout => (504, "Gateway Timeout"),
                _ when e.Code == GatewayHttp.HostNotAllowed => (403, "Forbidden"),
                _ when e.Code == GatewayHttp.CredentialsIncomplete => (409, "Conflict"),
                _ => (502, "Bad Gateway"),
            };
            var detail = e.Kind switch
            {
                BusErrorKind.DeadlineExceeded => $"Gateway cluster '{cluster.Name}' did not answer within {gateways.RequestTimeout.TotalSeconds:0.###} s (Gateway:RequestTimeout).",
                BusErrorKind.MessageTooLarge => $"The request is too large to send to gateway cluster '{cluster.Name}': {e.Message}",
                _ => e.Message,
            };
            await ProblemAsync(context, status, title, detail, e.Code, outcome);
        }

        return null;
    }

    /// <summary>Copies the agent's answer to the caller as it arrives; a cut-short answer breaks the connection instead of ending early.</summary>
    private async Task RelayAsync(HttpContext context, GatewayCluster cluster, IBusResponse response)
    {
        await using (response)
        {
            var head = response.Head.IsEmpty ? null : JsonSerializer.Deserialize<DataResponseHead>(response.Head.Span, Web);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = head?.ContentType ?? "application/json";
            if (head?.PreferenceApplied is { } applied)
            {
                context.Response.Headers["Preference-Applied"] = applied;
            }

            if (await BusAnswers.TryWriteWholeAsync(context, response, context.RequestAborted))
            {
                return;
            }

            try
            {
                await response.Body.CopyToAsync(context.Response.Body, 32 * 1024, context.RequestAborted);
            }
            catch (IOException e)
            {
                Log.CutShort(logger, cluster.Id, e.Message);
                context.Abort();
            }
        }
    }

    /// <summary>
    /// The caller's <see cref="IdempotencyHeader"/> scoped to the connection, so that a retried write is carried out once;
    /// without it, a fresh key (each call is a new write).
    /// </summary>
    private static string IdempotencyKey(HttpContext context, ConnectionRecord connection) =>
        context.Request.Headers[IdempotencyHeader].ToString() is { Length: > 0 and <= 200 } given
            ? $"{connection.Id:N}:{given}"
            : $"{connection.Id:N}:{Guid.NewGuid():N}";

    /// <summary>An OData key literal from the <c>{id}</c> segment: numbers and GUIDs as they are, quoted text kept, other text quoted.</summary>
    internal static string KeyLiteral(string id)
    {
        if (id.Length >= 2 && id[0] == '\'' && id[^1] == '\'')
        {
            return id;
        }

        return long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) || Guid.TryParse(id, out _) || id.Contains('=', StringComparison.Ordinal)
            ? id
            : "'" + id.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static int? MaxPageSize(HttpRequest request)
    {
        foreach (var prefer in request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var part = prefer.Trim();
            if (part.StartsWith("odata.maxpagesize=", StringComparison.OrdinalIgnoreCase) && int.TryParse(part["odata.maxpagesize=".Length..], out var size) && size > 0)
            {
                return size;
            }
        }

        return null;
    }

    private static string ErrorMessage(byte[]? answer)
    {
        try
        {
            return answer is { Length: > 0 } && JsonDocument.Parse(answer).RootElement.TryGetProperty("error", out var e) && e.TryGetProperty("message", out var m)
                ? m.GetString() ?? "no message"
                : "no message";
        }
        catch (JsonException)
        {
            return "an answer that is not JSON";
        }
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream stream, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;

    private static async Task ProblemAsync(HttpContext context, int status, string title, string detail, string? code, ApimRuntime.CallOutcome outcome)
    {
        outcome.Failure ??= code ?? title;
        var extensions = code is null ? null : new Dictionary<string, object?> { ["code"] = code };
        await Results.Problem(detail: detail, statusCode: status, title: title, extensions: extensions).ExecuteAsync(context);
    }

    /// <summary>Where the built-in SQL connector's database is, from the connection's (non-secret) parameters.</summary>
    internal static class SqlTarget
    {
        public const string DatabaseType = "databaseType";
        public const string Server = "server";
        public const string Database = "database";

        private static readonly string[] Types = ["sqlserver", "postgresql", "sqlite"];

        public static (string Field, string Message)? Validate(IReadOnlyDictionary<string, string> values)
        {
            var type = values.GetValueOrDefault(DatabaseType) ?? "sqlserver";
            if (!Types.Contains(type, StringComparer.Ordinal))
            {
                return ($"parameters.{DatabaseType}", $"'{DatabaseType}' must be one of {string.Join(", ", Types)}, not '{Shorten(type)}'.");
            }

            var server = values.GetValueOrDefault(Server);
            if (string.IsNullOrWhiteSpace(server))
            {
                return ($"parameters.{Server}", type == "sqlite" ? "'server' must be the database file's path on the gateway's machine." : "'server' must be host, host:port or host,port.");
            }

            if (type != "sqlite")
            {
                if (SplitServer(server) is not { } _)
                {
                    return ($"parameters.{Server}", $"'server' must be host, host:port or host,port with a port from 1 to 65535, not '{Shorten(server)}'.");
                }

                if (string.IsNullOrWhiteSpace(values.GetValueOrDefault(Database)))
                {
                    return ($"parameters.{Database}", $"'database' is required for {type}.");
                }
            }

            return null;
        }

        public static DataSourceDescriptor Describe(ConnectionRecord connection, string envelope)
        {
            var values = connection.Values;
            var type = values.GetValueOrDefault(DatabaseType) ?? "sqlserver";
            var server = values.GetValueOrDefault(Server) ?? "";
            var where = type == "sqlite"
                ? new DataSourceConnection(null, null, null, server)
                : SplitServer(server) is { } hp ? new DataSourceConnection(hp.Host, hp.Port, values.GetValueOrDefault(Database), null) : new DataSourceConnection(server, null, values.GetValueOrDefault(Database), null);
            var name = connection.DisplayName is { Length: > 0 } d ? d : $"connection {connection.Id}";
            return new DataSourceDescriptor(connection.Id, name, type, where, envelope, connection.CreatedAt);
        }

        private static (string Host, int? Port)? SplitServer(string server)
        {
            var separator = server.LastIndexOfAny([',', ':']);
            if (separator < 0 || server.Count(c => c == ':') > 1)
            {
                return server.Trim().Length == 0 ? null : (server.Trim(), null);
            }

            var host = server[..separator].Trim();
            return host.Length > 0 && int.TryParse(server[(separator + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
                ? (host, port)
                : null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "apim: an answer of gateway cluster {Cluster} was cut short: {Reason}")]
        public static partial void CutShort(ILogger logger, Guid cluster, string reason);

    }
}
