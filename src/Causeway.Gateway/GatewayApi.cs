using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Environments;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Causeway.Gateway;

/// <summary>Body of <c>POST /api/v1/gateways</c> (what <c>causeway-gateway register</c> sends).</summary>
public sealed record CreateClusterRequest(string? Name, string? Geography, string? PublicKey, string? EscrowedKey, CreateMemberRequest? Member);

/// <summary>Body of <c>POST /api/v1/gateways/{id}/members</c>.</summary>
public sealed record CreateMemberRequest(string? Name, string? Version);

/// <summary>Body of <c>PATCH /api/v1/gateways/{id}</c>.</summary>
public sealed record UpdateClusterRequest(bool? DistributeRequests, int? MemberConcurrencyLimit);

/// <summary>Body of <c>POST /api/v1/gateways/{id}/datasources</c>.</summary>
public sealed record CreateDataSourceRequest(string? Name, string? Type, JsonElement? Connection, JsonElement? Credentials, string? EncryptedCredentials);

/// <summary>Body of <c>POST /api/v1/gateways/{id}/datasources/{dsId}/bindings</c>.</summary>
public sealed record CreateBindingRequest(string? Environment);

/// <summary>A member as the API shows it.</summary>
public sealed record MemberResponse(Guid Id, string Name, int Priority, string Status, DateTimeOffset? LastHeartbeat, string? Version, MemberLoad Load);

/// <summary>Requests in flight on a member and its limit.</summary>
public sealed record MemberLoad(int Active, int Limit);

/// <summary>A cluster as the API shows it.</summary>
public sealed record ClusterResponse(Guid Id, string Name, string Geography, string PublicKey, bool DistributeRequests, int MemberConcurrencyLimit,
    string Status, IReadOnlyList<MemberResponse> Members, DateTimeOffset CreatedAt);

/// <summary>A data source as the API shows it: never the credentials.</summary>
public sealed record DataSourceResponse(Guid Id, string Name, string Type, DataSourceConnection Connection, string Credentials, DateTimeOffset CreatedAt);

/// <summary>The gateway REST API: clusters, members, data sources and bindings under <c>/api/v1/gateways</c>.</summary>
public static class GatewayApi
{
    private static readonly string[] Types = ["postgresql", "sqlite", "sqlserver"];

    /// <summary>Maps the endpoints onto the authenticated API group.</summary>
    public static RouteGroupBuilder MapGatewayApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/gateways").WithTags("Gateways");

        group.MapPost("/", async (CreateClusterRequest body, HttpContext context, GatewayStore store, EnvironmentService environments, GatewayOptions options, MemberRegistry registry, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators register gateways.");
            }

            var errors = new Dictionary<string, string[]>();
            Check(errors, "name", CheckName(body.Name));
            Check(errors, "member.name", CheckName(body.Member?.Name));
            if (string.IsNullOrWhiteSpace(body.Geography))
            {
                errors["geography"] = ["geography is required."];
            }
            else if (environments.Topology.FindServed(body.Geography) is null)
            {
                errors["geography"] = [$"geography '{TenancyApi.Shorten(body.Geography)}' is not served by this deployment. It serves: {string.Join(", ", environments.Topology.Geographies.Select(g => g.Id))}."];
            }

            try
            {
                using var key = GatewayEnvelope.ImportPublicKey(body.PublicKey ?? "");
            }
            catch (GatewayCryptoException e)
            {
                errors["publicKey"] = [e.Message];
            }

            if (!LooksLikeKeyFile(body.EscrowedKey))
            {
                errors["escrowedKey"] = ["escrowedKey must be the cluster's private key protected with the recovery key (the key file the agent writes)."];
            }

            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            var (cluster, member, credential) = await store.CreateClusterAsync(caller.TenantId, body.Name!, environments.Topology.FindServed(body.Geography!)!.Id,
                body.PublicKey!.Trim(), body.EscrowedKey!, body.Member!.Name!, Shorten(body.Member.Version), options.DefaultMemberConcurrencyLimit, ct);
            var response = await ToResponseAsync(cluster, store, registry, ct);
            return Results.Created($"/api/v1/gateways/{cluster.Id}", new { cluster = response, member = new { member.Id, member.Name, credential } });
        }).WithName("CreateGatewayCluster");

        group.MapGet("/", async (HttpContext context, GatewayStore store, MemberRegistry registry, CancellationToken ct) =>
        {
            var clusters = await store.ListClustersAsync(context.GetCaller().TenantId, ct);
            var list = new List<ClusterResponse>();
            foreach (var cluster in clusters)
            {
                list.Add(await ToResponseAsync(cluster, store, registry, ct));
            }

            return Results.Ok(list);
        }).WithName("ListGatewayClusters");

        group.MapGet("/{clusterId:guid}", async (Guid clusterId, HttpContext context, GatewayStore store, MemberRegistry registry, CancellationToken ct) =>
            await store.FindClusterAsync(context.GetCaller().TenantId, clusterId, ct) is { } cluster
                ? Results.Ok(await ToResponseAsync(cluster, store, registry, ct))
                : Problems.NotFound($"Gateway cluster '{clusterId}'")).WithName("GetGatewayCluster");

        group.MapPatch("/{clusterId:guid}", async (Guid clusterId, UpdateClusterRequest body, HttpContext context, GatewayStore store, MemberRegistry registry, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is not { } cluster)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators change gateways.");
            }

            if (body.MemberConcurrencyLimit is < 1 or > 10_000)
            {
                return Problems.Invalid("memberConcurrencyLimit", "memberConcurrencyLimit must be between 1 and 10000.");
            }

            await store.UpdateClusterAsync(clusterId, body.DistributeRequests ?? cluster.DistributeRequests, body.MemberConcurrencyLimit ?? cluster.MemberConcurrencyLimit, ct);
            return Results.Ok(await ToResponseAsync((await store.FindClusterAsync(caller.TenantId, clusterId, ct))!, store, registry, ct));
        }).WithName("UpdateGatewayCluster");

        group.MapDelete("/{clusterId:guid}", async (Guid clusterId, HttpContext context, GatewayStore store, MemberRegistry registry, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is null)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators delete gateways.");
            }

            var members = await store.ListMembersAsync(clusterId, ct);
            await store.DeleteClusterAsync(clusterId, ct);
            foreach (var member in members)
            {
                if (registry.Find(member.Id) is { } session)
                {
                    await session.Connection.CloseAsync("The gateway cluster was deleted.", ct);
                }
            }

            return Results.NoContent();
        }).WithName("DeleteGatewayCluster");

        // Joining a cluster: the agent fetches the escrowed key, opens it with the recovery key, and only then adds itself.
        group.MapGet("/{clusterId:guid}/escrow", async (Guid clusterId, HttpContext context, GatewayStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is not { } cluster)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            return caller.IsTenantAdmin
                ? Results.Ok(new { cluster.Id, cluster.Name, cluster.Geography, cluster.PublicKey, cluster.EscrowedKey })
                : Problems.Forbidden("Only tenant administrators add gateway members.");
        }).WithName("GetGatewayEscrow");

        group.MapPost("/{clusterId:guid}/members", async (Guid clusterId, CreateMemberRequest body, HttpContext context, GatewayStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is null)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators add gateway members.");
            }

            if (CheckName(body.Name) is { } problem)
            {
                return Problems.Invalid("name", problem);
            }

            var (member, credential) = await store.AddMemberAsync(clusterId, body.Name!, Shorten(body.Version), ct);
            return Results.Created($"/api/v1/gateways/{clusterId}/members/{member.Id}", new { member.Id, member.Name, member.Priority, credential });
        }).WithName("AddGatewayMember");

        group.MapDelete("/{clusterId:guid}/members/{memberId:guid}", async (Guid clusterId, Guid memberId, HttpContext context, GatewayStore store, MemberRegistry registry, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is null)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators remove gateway members.");
            }

            if (!await store.DeleteMemberAsync(clusterId, memberId, ct))
            {
                return Problems.NotFound($"Gateway member '{memberId}'");
            }

            if (registry.Find(memberId) is { } session)
            {
                await session.Connection.CloseAsync("The member was removed.", ct);
            }

            return Results.NoContent();
        }).WithName("RemoveGatewayMember");

        group.MapPost("/{clusterId:guid}/datasources", async (Guid clusterId, CreateDataSourceRequest body, HttpContext context, GatewayStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is not { } cluster)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators add gateway data sources.");
            }

            // Sealed before anything else can see it; the clear text is not kept, stored, logged or echoed.
            var (sealedCredentials, errors) = ValidateDataSource(body, cluster, out var connection);
            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            var record = await store.CreateDataSourceAsync(clusterId, body.Name!, body.Type!, JsonSerializer.Serialize(connection, Web), sealedCredentials!, ct);
            return Results.Created($"/api/v1/gateways/{clusterId}/datasources/{record.Id}", ToResponse(record));
        }).WithName("CreateGatewayDataSource");

        group.MapGet("/{clusterId:guid}/datasources", async (Guid clusterId, HttpContext context, GatewayStore store, CancellationToken ct) =>
            await store.FindClusterAsync(context.GetCaller().TenantId, clusterId, ct) is null
                ? Problems.NotFound($"Gateway cluster '{clusterId}'")
                : Results.Ok((await store.ListDataSourcesAsync(clusterId, ct)).Select(ToResponse))).WithName("ListGatewayDataSources");

        group.MapGet("/{clusterId:guid}/datasources/{id:guid}", async (Guid clusterId, Guid id, HttpContext context, GatewayStore store, CancellationToken ct) =>
            await store.FindClusterAsync(context.GetCaller().TenantId, clusterId, ct) is not null && await store.FindDataSourceAsync(clusterId, id, ct) is { } source
                ? Results.Ok(ToResponse(source))
                : Problems.NotFound($"Gateway data source '{id}'")).WithName("GetGatewayDataSource");

        group.MapDelete("/{clusterId:guid}/datasources/{id:guid}", async (Guid clusterId, Guid id, HttpContext context, GatewayStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is null)
            {
                return Problems.NotFound($"Gateway cluster '{clusterId}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators delete gateway data sources.");
            }

            return await store.DeleteDataSourceAsync(clusterId, id, ct) ? Results.NoContent() : Problems.NotFound($"Gateway data source '{id}'");
        }).WithName("DeleteGatewayDataSource");

        group.MapPost("/{clusterId:guid}/datasources/{id:guid}/bindings", async (Guid clusterId, Guid id, CreateBindingRequest body, HttpContext context, GatewayStore store,
            EnvironmentService environments, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (await store.FindClusterAsync(caller.TenantId, clusterId, ct) is not { } cluster || await store.FindDataSourceAsync(clusterId, id, ct) is not { } source)
            {
                return Problems.NotFound($"Gateway data source '{id}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only tenant administrators bind gateway data sources.");
            }

            if (!Guid.TryParse(body.Environment, out var environmentId) || await environments.FindAsync(caller.TenantId, environmentId, ct) is not { } environment)
            {
                return Problems.Invalid("environment", $"environment '{TenancyApi.Shorten(body.Environment ?? "")}' is not an environment id of this tenant.");
            }

            if (!string.Equals(environment.Geography, cluster.Geography, StringComparison.OrdinalIgnoreCase))
            {
                return Problems.Invalid("environment",
                    $"Gateway cluster '{cluster.Name}' serves geography '{cluster.Geography}', but environment '{environment.Name}' is in '{environment.Geography}'; a gateway serves only environments of its own geography.");
            }

            var binding = await store.CreateBindingAsync(source, environment.Id, ct);
            return Results.Created($"/api/v1/gateways/{clusterId}/datasources/{id}/bindings/{binding.Id}",
                new { binding.Id, environment = environment.Id, binding.Name, dataApiUrl = GatewayDataApi.DataApiUrl(context.Request, environment.Name, binding.Name) });
        }).WithName("BindGatewayDataSource");

        group.MapGet("/{clusterId:guid}/datasources/{id:guid}/bindings", async (Guid clusterId, Guid id, HttpContext context, GatewayStore store, CancellationToken ct) =>
            await store.FindClusterAsync(context.GetCaller().TenantId, clusterId, ct) is not null && await store.FindDataSourceAsync(clusterId, id, ct) is not null
                ? Results.Ok((await store.ListBindingsAsync(id, ct)).Select(b => new { b.Id, environment = b.EnvironmentId, b.Name, b.CreatedAt }))
                : Problems.NotFound($"Gateway data source '{id}'")).WithName("ListGatewayBindings");

        return api;
    }

    internal static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Checks a name used in URLs: 1-63 letters, digits, '-' or '_', starting with a letter.</summary>
    internal static string? CheckName(string? name) =>
        string.IsNullOrEmpty(name) ? "name is required."
        : name.Length > 63 || !char.IsAsciiLetter(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? $"name '{TenancyApi.Shorten(name)}' must be 1-63 letters, digits, '-' or '_' and start with a letter."
            : null;

    private static void Check(Dictionary<string, string[]> errors, string field, string? problem)
    {
        if (problem is not null)
        {
            errors[field] = [problem];
        }
    }

    private static string? Shorten(string? version) => version is null ? null : version.Length > 40 ? version[..40] : version;

    private static bool LooksLikeKeyFile(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 16_384)
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("ciphertext", out _) && json.RootElement.TryGetProperty("salt", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static (string? Sealed, Dictionary<string, string[]> Errors) ValidateDataSource(CreateDataSourceRequest body, GatewayCluster cluster, out DataSourceConnection connection)
    {
        var errors = new Dictionary<string, string[]>();
        connection = new DataSourceConnection(null, null, null, null);
        Check(errors, "name", CheckName(body.Name));
        if (body.Type is null || !Types.Contains(body.Type))
        {
            errors["type"] = [$"type must be one of {string.Join(", ", Types)}."];
        }

        if (body.Connection is not { ValueKind: JsonValueKind.Object } conn)
        {
            errors["connection"] = ["connection is required: {\"host\", \"port\", \"database\"} or, for sqlite, {\"path\"}."];
        }
        else
        {
            string? host = null, database = null, path = null;
            int? port = null;
            foreach (var property in conn.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "host" when property.Value.ValueKind == JsonValueKind.String: host = property.Value.GetString(); break;
                    case "database" when property.Value.ValueKind == JsonValueKind.String: database = property.Value.GetString(); break;
                    case "path" when property.Value.ValueKind == JsonValueKind.String: path = property.Value.GetString(); break;
                    case "port" when property.Value.TryGetInt32(out var p) && p is > 0 and < 65536: port = p; break;
                    default:
                        // Anything else might be a secret in the wrong place: refuse it rather than store it in clear. The name is not echoed.
                        errors["connection"] = ["connection accepts only host, port (1-65535), database and path; put user names and passwords in credentials."];
                        break;
                }
            }

            if (body.Type == "sqlite" && string.IsNullOrWhiteSpace(path))
            {
                errors["connection.path"] = ["a sqlite data source needs connection.path (the database file on the gateway's machine)."];
            }
            else if (body.Type is "postgresql" or "sqlserver" && (string.IsNullOrWhiteSpace(host) || string.IsNullOrWhiteSpace(database)))
            {
                errors["connection"] = [$"a {body.Type} data source needs connection.host and connection.database."];
            }

            connection = new DataSourceConnection(host, port, database, path);
        }

        if ((body.Credentials is { ValueKind: not JsonValueKind.Null }) == (body.EncryptedCredentials is not null))
        {
            errors["credentials"] = ["give exactly one of credentials ({\"username\", \"password\"}) or encryptedCredentials (an envelope sealed with the cluster's publicKey)."];
            return (null, errors);
        }

        if (body.EncryptedCredentials is { } envelope)
        {
            if (!LooksLikeEnvelope(envelope))
            {
                errors["encryptedCredentials"] = ["encryptedCredentials is not an envelope of this format (base64, version 1, sealed with the cluster's publicKey)."];
            }

            return (envelope, errors);
        }

        if (body.Credentials is not { ValueKind: JsonValueKind.Object } credentials ||
            credentials.EnumerateObject().Any(p => p.Name is not ("username" or "password") || p.Value.ValueKind != JsonValueKind.String))
        {
            errors["credentials"] = ["credentials must be an object with string properties username and password only."];
            return (null, errors);
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var clear = JsonSerializer.SerializeToUtf8Bytes(credentials);
        try
        {
            using var key = GatewayEnvelope.ImportPublicKey(cluster.PublicKey);
            return (GatewayEnvelope.Seal(key, clear, GatewayOperations.CredentialsAssociatedData(cluster.Id)), errors);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    private static bool LooksLikeEnvelope(string envelope)
    {
        try
        {
            var bytes = Convert.FromBase64String(envelope);
            return bytes.Length > 3 + 256 + 28 && bytes[0] == 1 && bytes.Length < 65_536;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static DataSourceResponse ToResponse(GatewayDataSource source) => new(source.Id, source.Name, source.Type,
        JsonSerializer.Deserialize<DataSourceConnection>(source.Connection, Web)!, "encrypted", source.CreatedAt);

    private static async Task<ClusterResponse> ToResponseAsync(GatewayCluster cluster, GatewayStore store, MemberRegistry registry, CancellationToken ct)
    {
        var members = (await store.ListMembersAsync(cluster.Id, ct)).Select(m =>
        {
            var session = registry.Find(m.Id);
            var online = registry.IsOnline(session);
            return new MemberResponse(m.Id, m.Name, m.Priority, online ? "online" : "offline", session?.LastHeartbeat ?? m.LastHeartbeat,
                session?.Version ?? m.Version, new MemberLoad(online ? session!.Active : 0, cluster.MemberConcurrencyLimit));
        }).ToList();
        var status = members.Count(m => m.Status == "online") switch
        {
            0 => "offline",
            var n when n == members.Count => "online",
            _ => "degraded",
        };
        return new ClusterResponse(cluster.Id, cluster.Name, cluster.Geography, cluster.PublicKey, cluster.DistributeRequests, cluster.MemberConcurrencyLimit,
            status, members, cluster.CreatedAt);
    }
}
