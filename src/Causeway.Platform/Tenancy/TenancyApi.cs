using Causeway.Platform.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Causeway.Platform.Tenancy;

/// <summary>Body of <c>POST /api/v1/tenants</c>.</summary>
public sealed record CreateTenantRequest(string? Name, string? Administrator);

/// <summary>Body of <c>POST /api/v1/users</c>.</summary>
public sealed record CreateUserRequest(string? Name, string? Email, bool? TenantAdmin);

/// <summary>Body of <c>POST /api/v1/tokens</c>.</summary>
public sealed record CreateTokenRequest(string? Name, Guid? UserId, int? ExpiresInDays);

/// <summary>A user as the API shows it.</summary>
public sealed record UserResponse(Guid Id, Guid TenantId, string Name, string? Email, bool TenantAdmin, bool Operator, DateTimeOffset CreatedAt)
{
    internal static UserResponse From(User u) => new(u.Id, u.TenantId, u.Name, u.Email, u.IsTenantAdmin, u.IsOperator, u.CreatedAt);
}

/// <summary>A token's metadata; <see cref="Token"/> is set only in the answer to its creation.</summary>
public sealed record TokenResponse(Guid Id, Guid UserId, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? Token = null)
{
    internal static TokenResponse From(TokenInfo t, string? token = null) => new(t.Id, t.UserId, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt, token);
}

/// <summary>Tenants, users and tokens over REST.</summary>
public static class TenancyApi
{
    /// <summary>Checks a tenant or user name: 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.</summary>
    public static string? CheckName(string? name, string what) =>
        string.IsNullOrWhiteSpace(name) ? $"{what} is required."
        : name.Length > 64 || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? $"{what} '{Shorten(name)}' must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit."
            : null;

    /// <summary>Cuts user input to 64 characters for messages.</summary>
    public static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;

    /// <summary>Maps <c>/api/v1/me</c>, <c>/tenants</c>, <c>/users</c> and <c>/tokens</c>.</summary>
    public static RouteGroupBuilder MapTenancyApi(this RouteGroupBuilder api)
    {
        api.MapGet("/me", async (HttpContext context, TenantStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var user = await store.FindUserAsync(caller.TenantId, caller.UserId, ct);
            return user is null ? Problems.NotFound("The user") : Results.Ok(UserResponse.From(user));
        }).WithName("GetMe").WithTags("Tenancy");

        api.MapPost("/tenants", async (CreateTenantRequest body, HttpContext context, TenantStore store, CancellationToken ct) =>
        {
            if (!context.GetCaller().IsOperator)
            {
                return Problems.Forbidden("Only a platform operator can create tenants.");
            }

            var errors = new Dictionary<string, string[]>();
            if (CheckName(body.Name, "name") is { } n)
            {
                errors["name"] = [n];
            }

            if (CheckName(body.Administrator, "administrator") is { } a)
            {
                errors["administrator"] = [a];
            }

            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            var (tenant, admin, token) = await store.CreateTenantAsync(body.Name!, body.Administrator!, administratorIsOperator: false, ct);
            return Results.Created($"/api/v1/tenants/{tenant.Id}", new { tenant.Id, tenant.Name, tenant.CreatedAt, Administrator = UserResponse.From(admin), Token = token });
        }).WithName("CreateTenant").WithTags("Tenancy");

        api.MapGet("/tenants", async (HttpContext context, TenantStore store, CancellationToken ct) =>
            context.GetCaller().IsOperator
                ? Results.Ok(await store.ListTenantsAsync(ct))
                : Problems.Forbidden("Only a platform operator can list tenants."))
            .WithName("ListTenants").WithTags("Tenancy");

        api.MapPost("/users", async (CreateUserRequest body, HttpContext context, TenantStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only a tenant administrator can create users.");
            }

            if (CheckName(body.Name, "name") is { } error)
            {
                return Problems.Invalid("name", error);
            }

            if (body.Email is { } email && (email.Length > 254 || !email.Contains('@', StringComparison.Ordinal)))
            {
                return Problems.Invalid("email", "email must be an address such as someone@example.com.");
            }

            var user = await store.CreateUserAsync(caller.TenantId, body.Name!, body.Email, body.TenantAdmin ?? false, ct);
            return Results.Created($"/api/v1/users/{user.Id}", UserResponse.From(user));
        }).WithName("CreateUser").WithTags("Tenancy");

        api.MapGet("/users", async (HttpContext context, TenantStore store, CancellationToken ct) =>
            Results.Ok((await store.ListUsersAsync(context.GetCaller().TenantId, ct)).Select(UserResponse.From)))
            .WithName("ListUsers").WithTags("Tenancy");

        api.MapPost("/tokens", async (CreateTokenRequest body, HttpContext context, TenantStore store, TimeProvider time, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var userId = body.UserId ?? caller.UserId;
            if (userId != caller.UserId && !caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only a tenant administrator can issue tokens for other users.");
            }

            if (CheckName(body.Name ?? "cli", "name") is { } error)
            {
                return Problems.Invalid("name", error);
            }

            if (body.ExpiresInDays is < 1 or > 3650)
            {
                return Problems.Invalid("expiresInDays", "expiresInDays must be between 1 and 3650.");
            }

            if (await store.FindUserAsync(caller.TenantId, userId, ct) is null)
            {
                return Problems.NotFound($"User '{userId}'");
            }

            DateTimeOffset? expires = body.ExpiresInDays is { } days ? time.GetUtcNow().AddDays(days) : null;
            var (info, token) = await store.IssueTokenAsync(userId, body.Name ?? "cli", expires, ct);
            return Results.Created($"/api/v1/tokens/{info.Id}", TokenResponse.From(info, token));
        }).WithName("CreateToken").WithTags("Tenancy");

        api.MapGet("/tokens", async (HttpContext context, TenantStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var tokens = await store.ListTokensAsync(caller.TenantId, caller.IsTenantAdmin ? null : caller.UserId, ct);
            return Results.Ok(tokens.Select(t => TokenResponse.From(t)));
        }).WithName("ListTokens").WithTags("Tenancy");

        api.MapDelete("/tokens/{id:guid}", async (Guid id, HttpContext context, TenantStore store, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var token = await store.FindTokenAsync(caller.TenantId, id, ct);
            if (token is null || (token.UserId != caller.UserId && !caller.IsTenantAdmin))
            {
                return Problems.NotFound($"Token '{id}'");
            }

            await store.RevokeTokenAsync(caller.TenantId, id, ct);
            return Results.NoContent();
        }).WithName("RevokeToken").WithTags("Tenancy");

        return api;
    }
}
