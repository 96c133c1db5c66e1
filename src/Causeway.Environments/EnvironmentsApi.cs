using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Topology;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Causeway.Environments;

/// <summary>Body of <c>POST /api/v1/environments</c>.</summary>
public sealed record CreateEnvironmentRequest(string? Name, string? Geography, string? Type, bool? EarlyRelease);

/// <summary>Body of <c>PUT /api/v1/environments/{id}/roles/{userId}</c>.</summary>
public sealed record AssignRoleRequest(string? Role);

/// <summary>The pair of scale groups an environment lives in.</summary>
public sealed record ScaleGroupPair(string Primary, string Secondary);

/// <summary>An environment as the API shows it.</summary>
public sealed record EnvironmentResponse(
    Guid Id, string Name, string Geography, string Type, string State, bool EarlyRelease,
    string PrimaryDatacenter, string SecondaryDatacenter, ScaleGroupPair ScaleGroups, string Url, string DataApiUrl,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>Environments, their roles, and the geographies they can be created in, over REST.</summary>
public static class EnvironmentsApi
{
    /// <summary>The environment as the API shows it; URLs are built from the request's own scheme and host.</summary>
    public static EnvironmentResponse ToResponse(this EnvironmentRecord e, HttpRequest request, DateTimeOffset now)
    {
        var url = $"{request.Scheme}://{request.Host}/environments/{e.Name}/";
        return new EnvironmentResponse(e.Id, e.Name, e.Geography, e.Type.ToWire(), e.StateAt(now).ToString().ToLowerInvariant(), e.EarlyRelease,
            e.PrimaryDatacenter, e.SecondaryDatacenter, new ScaleGroupPair(e.PrimaryScaleGroup, e.SecondaryScaleGroup), url, url + "api/data/v9.2/",
            e.CreatedAt, e.ExpiresAt);
    }

    /// <summary>Maps <c>/geographies</c> and <c>/environments</c> onto the authenticated API group.</summary>
    public static RouteGroupBuilder MapEnvironmentsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/geographies", async (EnvironmentService environments, CancellationToken ct) =>
        {
            var load = await environments.LoadAsync(ct);
            var topology = environments.Topology;
            return Results.Ok(topology.Geographies.Select(g => new
            {
                g.Id,
                g.Name,
                Datacenters = g.Datacenters.Select(d => new
                {
                    d.Id,
                    d.Name,
                    d.BgpCommunity,
                    d.Unverified,
                    ScaleGroups = topology.ScaleGroupsIn(d.Id).Select(s => new { s.Name, Kind = s.Kind.ToWire(), s.Capacity, Load = load.GetValueOrDefault(s.Name) }),
                }),
                EnvironmentHostSuffix = g.EnvironmentHostSuffix,
                g.HostSuffixUnverified,
                g.Sovereign,
                g.Sources,
            }));
        }).WithName("ListGeographies").WithTags("Topology");

        var group = api.MapGroup("/environments").WithTags("Environments");

        group.MapPost("/", async (CreateEnvironmentRequest body, HttpContext context, EnvironmentService environments, TimeProvider time, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var errors = new Dictionary<string, string[]>();
            if (EnvironmentService.CheckName(body.Name) is { } nameError)
            {
                errors["name"] = [nameError];
            }

            if (string.IsNullOrWhiteSpace(body.Geography))
            {
                errors["geography"] = ["geography is required."];
            }

            EnvironmentType type = default;
            if (!TopologyNames.TryParseType(body.Type, out type) || type == EnvironmentType.Default)
            {
                errors["type"] = [$"type must be one of production, sandbox, trial, developer (it is '{TenancyApi.Shorten(body.Type ?? "")}'); the Default environment is created with the tenant."];
            }

            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            if (!caller.IsTenantAdmin && type != EnvironmentType.Developer)
            {
                return Problems.Forbidden("Only a tenant administrator can create environments other than developer ones.");
            }

            try
            {
                var created = await environments.CreateAsync(caller.TenantId, caller.UserId, body.Name!, body.Geography!, type, body.EarlyRelease ?? false, ct);
                return Results.Created($"/api/v1/environments/{created.Id}", created.ToResponse(context.Request, time.GetUtcNow()));
            }
            catch (EnvironmentRequestException e)
            {
                return Problems.Invalid(e.Field, e.Message);
            }
        }).WithName("CreateEnvironment");

        group.MapGet("/", async (HttpContext context, EnvironmentService environments, TimeProvider time, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var list = await environments.ListAsync(caller.TenantId, caller.IsTenantAdmin ? null : caller.UserId, ct);
            var now = time.GetUtcNow();
            return Results.Ok(list.Select(e => e.ToResponse(context.Request, now)));
        }).WithName("ListEnvironments");

        group.MapGet("/{id:guid}", async (Guid id, HttpContext context, EnvironmentService environments, TimeProvider time, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            return problem ?? Results.Ok(environment!.ToResponse(context.Request, time.GetUtcNow()));
        }).WithName("GetEnvironment");

        group.MapDelete("/{id:guid}", async (Guid id, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.SystemAdministrator, ct);
            if (problem is not null)
            {
                return problem;
            }

            await environments.DeleteAsync(environment!, ct);
            return Results.NoContent();
        }).WithName("DeleteEnvironment");

        group.MapGet("/{id:guid}/roles", async (Guid id, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (_, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            return problem ?? Results.Ok((await environments.RolesAsync(id, ct)).Select(r => new { r.UserId, Role = EnvironmentService.RoleWire(r.Role) }));
        }).WithName("ListEnvironmentRoles");

        group.MapPut("/{id:guid}/roles/{userId:guid}", async (Guid id, Guid userId, AssignRoleRequest body, HttpContext context, EnvironmentService environments, TenantStore tenants, CancellationToken ct) =>
        {
            var (_, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.SystemAdministrator, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (EnvironmentService.ParseRole(body.Role) is not { } role)
            {
                return Problems.Invalid("role", "role must be systemAdministrator, environmentMaker or basicUser.");
            }

            if (await tenants.FindUserAsync(context.GetCaller().TenantId, userId, ct) is null)
            {
                return Problems.NotFound($"User '{userId}'");
            }

            await environments.AssignRoleAsync(id, userId, role, ct);
            return Results.Ok(new { UserId = userId, Role = EnvironmentService.RoleWire(role) });
        }).WithName("AssignEnvironmentRole");

        group.MapDelete("/{id:guid}/roles/{userId:guid}", async (Guid id, Guid userId, HttpContext context, EnvironmentService environments, CancellationToken ct) =>
        {
            var (_, _, problem) = await environments.AuthorizeAsync(context, id, EnvironmentRole.SystemAdministrator, ct);
            if (problem is not null)
            {
                return problem;
            }

            await environments.AssignRoleAsync(id, userId, null, ct);
            return Results.NoContent();
        }).WithName("RemoveEnvironmentRole");

        return api;
    }

    /// <summary>
    /// Finds the caller's environment and checks its role: another tenant's or an unknown environment is 404; a user of the
    /// same tenant without a role is 404 too (it is not listed for them either); too small a role is 403.
    /// </summary>
    public static async Task<(EnvironmentRecord? Environment, EnvironmentRole? Role, IResult? Problem)> AuthorizeAsync(
        this EnvironmentService environments, HttpContext context, Guid id, EnvironmentRole needed, CancellationToken cancellationToken)
    {
        var caller = context.GetCaller();
        var environment = await environments.FindAsync(caller.TenantId, id, cancellationToken);
        var role = environment is null ? null : await environments.RoleOfAsync(caller, environment, cancellationToken);
        if (environment is null || role is null)
        {
            return (null, null, Problems.NotFound($"Environment '{id}'"));
        }

        return role < needed
            ? (environment, role, Problems.Forbidden($"This needs the {EnvironmentService.RoleWire(needed)} role in environment '{environment.Name}'."))
            : (environment, role, null);
    }
}
