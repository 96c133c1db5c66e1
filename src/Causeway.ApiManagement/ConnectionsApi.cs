using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Connectors;
using Causeway.Environments;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Causeway.ApiManagement;

/// <summary>OAuth settings given when a connection is created; each overrides what the connector declares.</summary>
public sealed record OAuthRequest(string? GrantType, string? ClientId, string? ClientSecret, string? Scopes, string? AuthorizationUrl, string? TokenUrl, string? RefreshUrl);

/// <summary>Body of <c>POST /api/v1/environments/{id}/connections</c>.</summary>
/// <param name="Gateway">For connectors reached through an on-premises data gateway: the id of a gateway cluster of the tenant.</param>
public sealed record CreateConnectionRequest(string? Connector, string? DisplayName, Dictionary<string, JsonElement>? Parameters, JsonElement? ParameterSet, OAuthRequest? OAuth,
    string? Gateway = null);

/// <summary>Body of <c>POST .../connections/{cid}/shares</c>.</summary>
public sealed record ShareConnectionRequest(Guid? UserId);

/// <summary>A connection's OAuth settings as the API shows them (never the client secret or tokens).</summary>
public sealed record OAuthResponse(string GrantType, string ClientId, string? Scopes, string? AuthorizationUrl, string TokenUrl, string? RedirectUri);

/// <summary>A connection as the API shows it. Secret parameters appear by name only; <c>gateway</c> is the cluster of a gateway connection.</summary>
public sealed record ConnectionResponse(
    Guid Id, string Connector, Guid EnvironmentId, Guid Owner, string? DisplayName, string Status, string? StatusReason,
    string? ParameterSet, IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<string> SecretParameters, OAuthResponse? OAuth,
    IReadOnlyList<Guid> SharedWith, DateTimeOffset CreatedAt, string? ConsentUrl = null, Guid? Gateway = null);

/// <summary>Connections over REST: <c>/api/v1/environments/{id}/connections</c>.</summary>
internal static class ConnectionsApi
{
    public static string TypeWire(ConnectionParameterType type) => type switch
    {
        ConnectionParameterType.SecureString => "securestring",
        ConnectionParameterType.OAuthSetting => "oauthSetting",
        ConnectionParameterType.GatewaySetting => "gatewaySetting",
        ConnectionParameterType.SecureObject => "secureobject",
        ConnectionParameterType.ClientCertificate => "clientCertificate",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static RouteGroupBuilder MapConnectionsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/environments/{id:guid}/connections").WithTags("Connections");

        group.MapPost("/", async (Guid id, CreateConnectionRequest body, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var caller = context.GetCaller();
            var services = context.RequestServices;
            if (string.IsNullOrWhiteSpace(body.Connector))
            {
                return Problems.Invalid("connector", "connector is required: the name of a connector of GET /api/v1/connectors.");
            }

            var connector = await services.GetRequiredService<ConnectorStore>().FindAsync(caller.TenantId, body.Connector, ct);
            if (connector is null)
            {
                return Problems.NotFound($"Connector '{TenancyApi.Shorten(body.Connector)}'");
            }

            var plan = Plan(connector, body, out var error);
            if (plan is null)
            {
                return Problems.Invalid(error!.Value.Field, error.Value.Message);
            }

            if (plan.Gateway is { } clusterId)
            {
                // The secret parameters are sealed for the cluster's key here and now; from this point the server cannot read them.
                var (sealedPlan, gatewayError) = await GatewayCalls.SealForGatewayAsync(services.GetRequiredService<Causeway.Gateway.GatewayConnections>(), caller.TenantId,
                    environment!, connector, plan, clusterId, ct);
                if (sealedPlan is null)
                {
                    return Problems.Invalid(gatewayError!.Value.Field, gatewayError.Value.Message);
                }

                plan = sealedPlan;
            }

            var options = services.GetRequiredService<IOptions<ApiManagementOptions>>().Value;
            var store = services.GetRequiredService<ConnectionStore>();
            var status = ConnectionStatus.Connected;
            string? state = null;
            var oauth = plan.OAuth;
            if (oauth is not null)
            {
                var publicBase = options.PublicBaseUrl is { Length: > 0 } b ? b.TrimEnd('/') : $"{context.Request.Scheme}://{context.Request.Host}";
                oauth = oauth with { RedirectUri = publicBase + ApiManagementExtensions.OAuthCallbackPath };
                if (oauth.GrantType == OAuthConfig.AuthorizationCode)
                {
                    status = ConnectionStatus.Unauthenticated;
                    state = TokenHasher.Base64Url(RandomNumberGenerator.GetBytes(32));
                }
            }

            var record = await store.CreateAsync(caller.TenantId, environment!.Id, caller.UserId, connector.Name, body.DisplayName, plan.ParameterSet,
                plan.Values, oauth, plan.Secrets, status, status == ConnectionStatus.Unauthenticated ? "waiting for the user's consent at consentUrl" : null, state, ct);
            if (oauth?.GrantType == OAuthConfig.ClientCredentials)
            {
                record = (await store.FindAsync(caller.TenantId, record.Id, ct))!;
                try
                {
                    await services.GetRequiredService<OAuthTokens>().EnsureAsync(record, plan.Secrets, null, ct);
                }
                catch (OAuthException)
                {
                    // The reason is stored with the connection's status; the connection exists and can be tested again.
                }
            }

            var created = (await store.FindAsync(caller.TenantId, record.Id, ct))!;
            var response = ToResponse(created, connector) with { ConsentUrl = state is null ? null : OAuthTokens.ConsentUrl(oauth!, state) };
            return Results.Created($"/api/v1/environments/{id}/connections/{created.Id}", response);
        }).WithName("CreateConnection");

        group.MapGet("/", async (Guid id, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (_, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var caller = context.GetCaller();
            var list = await context.RequestServices.GetRequiredService<ConnectionStore>().ListAsync(caller.TenantId, id, caller.UserId, ct);
            var connectors = context.RequestServices.GetRequiredService<ConnectorStore>();
            var result = new List<ConnectionResponse>();
            foreach (var c in list)
            {
                result.Add(ToResponse(c, await connectors.FindAsync(caller.TenantId, c.Connector, ct)));
            }

            return Results.Ok(result);
        }).WithName("ListConnections");

        group.MapGet("/{cid:guid}", async (Guid id, Guid cid, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (connection, problem) = await FindAsync(context, environments, id, cid, ct);
            if (problem is not null)
            {
                return problem;
            }

            var connector = await context.RequestServices.GetRequiredService<ConnectorStore>().FindAsync(connection!.TenantId, connection.Connector, ct);
            return Results.Ok(ToResponse(connection, connector));
        }).WithName("GetConnection");

        group.MapDelete("/{cid:guid}", async (Guid id, Guid cid, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (connection, problem) = await FindAsync(context, environments, id, cid, ct);
            if (problem is not null)
            {
                return problem;
            }

            var caller = context.GetCaller();
            if (connection!.OwnerId != caller.UserId && !caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only the connection's owner or a tenant administrator can delete it.");
            }

            await context.RequestServices.GetRequiredService<ConnectionStore>().DeleteAsync(connection, ct);
            return Results.NoContent();
        }).WithName("DeleteConnection");

        group.MapPost("/{cid:guid}/shares", async (Guid id, Guid cid, ShareConnectionRequest body, HttpContext context, EnvironmentService environments, TenantStore tenants, CancellationToken ct) =>
        {
            var (connection, problem) = await FindAsync(context, environments, id, cid, ct);
            if (problem is not null)
            {
                return problem;
            }

            var caller = context.GetCaller();
            if (connection!.OwnerId != caller.UserId && !caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only the connection's owner or a tenant administrator can share it.");
            }

            if (body.UserId is not { } userId)
            {
                return Problems.Invalid("userId", "userId is required: the id of a user of this environment.");
            }

            var user = await tenants.FindUserAsync(caller.TenantId, userId, ct);
            var environment = await environments.FindAsync(caller.TenantId, id, ct);
            if (user is null || await environments.RoleOfAsync(new Caller(user.Id, user.TenantId, user.Name, user.IsTenantAdmin, user.IsOperator), environment!, ct) is null)
            {
                return Problems.Invalid("userId", $"User '{userId}' is not a user of this environment; give them a role in it first.");
            }

            var store = context.RequestServices.GetRequiredService<ConnectionStore>();
            await store.ShareAsync(connection, userId, ct);
            return Results.Ok(new { ConnectionId = connection.Id, UserId = userId });
        }).WithName("ShareConnection");

        group.MapDelete("/{cid:guid}/shares/{userId:guid}", async (Guid id, Guid cid, Guid userId, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (connection, problem) = await FindAsync(context, environments, id, cid, ct);
            if (problem is not null)
            {
                return problem;
            }

            var caller = context.GetCaller();
            if (connection!.OwnerId != caller.UserId && !caller.IsTenantAdmin && caller.UserId != userId)
            {
                return Problems.Forbidden("Only the connection's owner or a tenant administrator can stop sharing it.");
            }

            return await context.RequestServices.GetRequiredService<ConnectionStore>().UnshareAsync(connection, userId, ct)
                ? Results.NoContent()
                : Problems.NotFound($"A share with user '{userId}'");
        }).WithName("UnshareConnection");

        group.MapPost("/{cid:guid}/test", async (Guid id, Guid cid, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (connection, problem) = await FindAsync(context, environments, id, cid, ct);
            if (problem is not null)
            {
                return problem;
            }

            var tester = context.RequestServices.GetRequiredService<ConnectionTester>();
            var (status, reason) = await tester.TestAsync(connection!, ct);
            return Results.Ok(new { connection!.Id, Status = status, Reason = reason });
        }).WithName("TestConnection");

        return api;
    }

    private static async Task<(ConnectionRecord? Connection, IResult? Problem)> FindAsync(HttpContext context, EnvironmentService environments, Guid environmentId, Guid connectionId, CancellationToken ct)
    {
        var (_, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
        if (problem is not null)
        {
            return (null, problem);
        }

        var caller = context.GetCaller();
        var connection = await context.RequestServices.GetRequiredService<ConnectionStore>().FindAsync(caller.TenantId, connectionId, ct);

        // Another user's private connection is as invisible as one that does not exist.
        return connection is null || connection.EnvironmentId != environmentId || (!connection.UsableBy(caller.UserId) && !caller.IsTenantAdmin)
            ? (null, Problems.NotFound($"Connection '{connectionId}'"))
            : (connection, null);
    }

    internal static ConnectionResponse ToResponse(ConnectionRecord c, ConnectorDefinition? connector)
    {
        var secretNames = connector is null
            ? []
            : AllParameters(connector).Where(p => p.IsSecret && p.Type != ConnectionParameterType.OAuthSetting).Select(p => p.Name)
                .Where(n => !c.Values.ContainsKey(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var oauth = c.OAuth is { } o ? new OAuthResponse(o.GrantType, o.ClientId, o.Scopes, o.AuthorizationUrl, o.TokenUrl, o.RedirectUri) : null;
        return new ConnectionResponse(c.Id, c.Connector, c.EnvironmentId, c.OwnerId, c.DisplayName, c.Status, c.StatusReason, c.ParameterSet,
            c.Values, secretNames, oauth, c.SharedWith, c.CreatedAt, Gateway: GatewayCalls.ClusterOf(c, connector));
    }

    private static IEnumerable<ConnectionParameter> AllParameters(ConnectorDefinition connector) =>
        connector.ConnectionParameters.Concat(connector.ConnectionParameterSets.SelectMany(s => s.Parameters));

    internal sealed record ConnectionPlan(string? ParameterSet, Dictionary<string, string> Values, ConnectionSecrets Secrets, OAuthConfig? OAuth, Guid? Gateway = null);

    /// <summary>Validates the body against the connector's parameters; null with the field and message when it is wrong.</summary>
    internal static ConnectionPlan? Plan(ConnectorDefinition connector, CreateConnectionRequest body, out (string Field, string Message)? error)
    {
        error = null;
        IReadOnlyList<ConnectionParameter> declared = connector.ConnectionParameters;
        string? setName = null;
        var given = body.Parameters ?? new Dictionary<string, JsonElement>();
        if (body.ParameterSet is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } set)
        {
            // {"name": "...", "values": {"p": {"value": ...} | ...}}, the platform's shape.
            if (set.ValueKind != JsonValueKind.Object || !set.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String)
            {
                error = ("parameterSet", "parameterSet must be {\"name\": \"<set>\", \"values\": {...}}.");
                return null;
            }

            setName = n.GetString();
            var chosen = connector.ConnectionParameterSets.FirstOrDefault(s => string.Equals(s.Name, setName, StringComparison.OrdinalIgnoreCase));
            if (chosen is null)
            {
                error = ("parameterSet", $"Connector '{connector.Name}' has no parameter set '{TenancyApi.Shorten(setName!)}'; it has: {Names(connector.ConnectionParameterSets.Select(s => s.Name))}.");
                return null;
            }

            setName = chosen.Name;
            declared = chosen.Parameters;
            given = new Dictionary<string, JsonElement>(given, StringComparer.OrdinalIgnoreCase);
            if (set.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in values.EnumerateObject())
                {
                    given[p.Name] = p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("value", out var v) ? v : p.Value;
                }
            }
        }
        else if (declared.Count == 0 && connector.ConnectionParameterSets.Count > 0)
        {
            error = ("parameterSet", $"Connector '{connector.Name}' needs a parameterSet, one of: {Names(connector.ConnectionParameterSets.Select(s => s.Name))}.");
            return null;
        }

        // A gateway connector's connection names its gateway cluster in "gateway" (or in its gatewaySetting parameter).
        var gatewayParameter = declared.FirstOrDefault(p => p.Type == ConnectionParameterType.GatewaySetting);
        var gatewayText = body.Gateway;
        if (gatewayParameter is not null && given.FirstOrDefault(g => string.Equals(g.Key, gatewayParameter.Name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } inline)
        {
            var text = inline.Value.ValueKind == JsonValueKind.String ? inline.Value.GetString() : inline.Value.GetRawText();
            if (gatewayText is not null && !string.Equals(gatewayText, text, StringComparison.OrdinalIgnoreCase))
            {
                error = ("gateway", $"'gateway' and the parameter '{gatewayParameter.Name}' name different gateway clusters; give one.");
                return null;
            }

            gatewayText = text;
        }

        Guid? gateway = null;
        if (connector.RequiresGateway || gatewayParameter is not null)
        {
            if (string.IsNullOrWhiteSpace(gatewayText))
            {
                error = ("gateway", $"Connector '{connector.Name}' reaches its data source through an on-premises data gateway: give \"gateway\", the id of one of the tenant's gateway clusters (GET /api/v1/gateways).");
                return null;
            }

            if (!Guid.TryParse(gatewayText, out var id))
            {
                error = ("gateway", $"'gateway' must be the id of a gateway cluster (a GUID), not '{TenancyApi.Shorten(gatewayText)}'.");
                return null;
            }

            if (body.OAuth is not null)
            {
                error = ("oauth", "A gateway connection cannot use OAuth: its credentials go to the gateway.");
                return null;
            }

            gateway = id;
        }
        else if (body.Gateway is not null)
        {
            error = ("gateway", $"Connector '{connector.Name}' does not use an on-premises data gateway; leave 'gateway' out.");
            return null;
        }

        var values2 = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var secrets = new ConnectionSecrets();
        if (gateway is { } cluster)
        {
            values2[gatewayParameter?.Name ?? GatewayCalls.GatewayValue] = cluster.ToString();
        }

        foreach (var (key, value) in given)
        {
            var parameter = declared.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));
            if (parameter is null)
            {
                error = ($"parameters.{key}", $"Connector '{connector.Name}' has no connection parameter '{TenancyApi.Shorten(key)}'; it has: {Names(declared.Select(p => p.Name))}.");
                return null;
            }

            if (parameter.Type == ConnectionParameterType.GatewaySetting)
            {
                continue;
            }

            if (parameter.Type == ConnectionParameterType.OAuthSetting)
            {
                error = ($"parameters.{key}", $"'{parameter.Name}' is an OAuth setting: give the client in 'oauth', the platform obtains the token.");
                return null;
            }

            var text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => null,
                _ => value.GetRawText(),
            };
            if (text is null)
            {
                continue;
            }

            if (parameter.IsSecret)
            {
                secrets.Parameters[parameter.Name] = text;
            }
            else
            {
                values2[parameter.Name] = text;
            }
        }

        var missing = declared.Where(p => p.Required && p.Type is not (ConnectionParameterType.OAuthSetting or ConnectionParameterType.GatewaySetting)
            && !values2.ContainsKey(p.Name) && !secrets.Parameters.ContainsKey(p.Name)).ToList();
        if (missing.Count > 0)
        {
            error = ($"parameters.{missing[0].Name}", $"Connector '{connector.Name}' needs the connection parameter(s) {Names(missing.Select(p => p.Name))}.");
            return null;
        }

        OAuthConfig? oauth = null;
        var oauthParameter = declared.FirstOrDefault(p => p.Type == ConnectionParameterType.OAuthSetting);
        var scheme = connector.SecuritySchemes.FirstOrDefault(s => s.Kind == SecuritySchemeKind.OAuth2);
        var usesOAuth = gateway is null && (body.OAuth is not null || oauthParameter is not null || (scheme is not null && connector.SecuritySchemes.Count == 1));
        if (usesOAuth)
        {
            var settings = oauthParameter?.Raw["oAuthSettings"];
            string? Custom(string name) => settings?["customParameters"]?[name]?["value"]?.ToString();
            var clientId = body.OAuth?.ClientId ?? settings?["clientId"]?.ToString();
            var tokenUrl = body.OAuth?.TokenUrl ?? Custom("tokenUrl") ?? scheme?.TokenUrl;
            var authorizationUrl = body.OAuth?.AuthorizationUrl ?? Custom("authorizationUrl") ?? scheme?.AuthorizationUrl;
            var scopes = body.OAuth?.Scopes ?? (settings?["scopes"] is System.Text.Json.Nodes.JsonArray a ? string.Join(' ', a.Select(x => x?.ToString())) : null);
            var grant = body.OAuth?.GrantType ?? (scheme?.Flow is "application" ? OAuthConfig.ClientCredentials : OAuthConfig.AuthorizationCode);
            if (grant is not (OAuthConfig.AuthorizationCode or OAuthConfig.ClientCredentials))
            {
                error = ("oauth.grantType", "oauth.grantType must be 'authorization_code' or 'client_credentials'.");
                return null;
            }

            if (string.IsNullOrWhiteSpace(clientId))
            {
                error = ("oauth.clientId", "oauth.clientId is required: the connector does not declare one.");
                return null;
            }

            if (!IsHttpUrl(tokenUrl))
            {
                error = ("oauth.tokenUrl", "oauth.tokenUrl must be an absolute http(s) URL: the connector does not declare one.");
                return null;
            }

            if (grant == OAuthConfig.AuthorizationCode && !IsHttpUrl(authorizationUrl))
            {
                error = ("oauth.authorizationUrl", "oauth.authorizationUrl must be an absolute http(s) URL for the authorization-code flow.");
                return null;
            }

            var refreshUrl = body.OAuth?.RefreshUrl ?? Custom("refreshUrl");
            secrets.ClientSecret = body.OAuth?.ClientSecret;
            oauth = new OAuthConfig(grant, clientId, scopes, authorizationUrl, tokenUrl!, IsHttpUrl(refreshUrl) ? refreshUrl : null, null, oauthParameter?.Name ?? "token");
        }

        return new ConnectionPlan(setName, values2, secrets, oauth, gateway);
    }

    private static bool IsHttpUrl(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";

    private static string Names(IEnumerable<string> names)
    {
        var list = names.Select(n => $"'{n}'").ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }
}
