using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Causeway.Platform.Tenancy;

/// <summary>
/// Authenticates <c>Authorization: Bearer cwt_...</c> against the platform's token hashes and answers failures with
/// problem details that say what is wrong with the token, never echoing it.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TenantStore tenants)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    private const string FailureKey = "causeway.auth.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (caller, failure) = await BearerTokens.AuthenticateAsync(Context, tenants);
        if (caller is null)
        {
            return failure is null ? AuthenticateResult.NoResult() : Fail(failure);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(Context.User, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        BearerTokens.ChallengeAsync(Context, Context.Items[FailureKey] as string);

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(detail: "The caller may not do this.", statusCode: 403, title: "Forbidden").ExecuteAsync(Context);
    }

    private AuthenticateResult Fail(string reason)
    {
        Context.Items[FailureKey] = reason;
        return AuthenticateResult.Fail(reason);
    }
}

/// <summary>
/// The bearer check itself, shared by the authentication handler and by request lanes that answer ahead of the general
/// pipeline (the /apim data plane): the same tokens, the same failures, the same 401.
/// </summary>
public static class BearerTokens
{
    private static readonly ConditionalWeakTable<Caller, ClaimsPrincipal> Principals = new();

    /// <summary>
    /// Authenticates the request's <c>Authorization: Bearer</c> header. On success the request's user is the caller's
    /// principal (so <see cref="CallerClaims.GetCaller"/> works); otherwise the failure says why, or is null when the
    /// request carries no Authorization header at all.
    /// </summary>
    public static async ValueTask<(Caller? Caller, string? Failure)> AuthenticateAsync(HttpContext context, TenantStore tenants)
    {
        string? header = context.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return (null, null);
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return (null, "The Authorization header must be 'Bearer <token>'.");
        }

        var (caller, rejection) = await tenants.AuthenticateAsync(header[7..].Trim(), context.RequestAborted);
        if (caller is null)
        {
            return (null, rejection switch
            {
                TokenRejection.Expired => "The bearer token has expired.",
                TokenRejection.Revoked => "The bearer token has been revoked.",
                _ => "The bearer token is not valid.",
            });
        }

        // The token memory hands back the same caller object for a while: its principal is made once for it (and is
        // only ever read).
        var principal = Principals.GetValue(caller, static c => new ClaimsPrincipal(new ClaimsIdentity(CallerClaims.From(c), BearerAuthenticationHandler.SchemeName)));
        context.User = principal;
        CallerClaims.Remember(context, principal, caller);
        return (caller, null);
    }

    /// <summary>The 401 answer: <c>WWW-Authenticate: Bearer</c> and problem details saying what is wrong (never the token).</summary>
    public static async Task ChallengeAsync(HttpContext context, string? failure)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(detail: failure ?? "A bearer token is required (Authorization: Bearer <token>).", statusCode: 401, title: "Unauthorized").ExecuteAsync(context);
    }
}

/// <summary>Maps a <see cref="Caller"/> to claims and back.</summary>
public static class CallerClaims
{
    private const string TenantClaim = "causeway:tenant";
    private const string AdminClaim = "causeway:tenant-admin";
    internal const string OperatorClaim = "causeway:operator";

    internal static IEnumerable<Claim> From(Caller caller)
    {
        yield return new Claim(ClaimTypes.NameIdentifier, caller.UserId.ToString());
        yield return new Claim(ClaimTypes.Name, caller.UserName);
        yield return new Claim(TenantClaim, caller.TenantId.ToString());
        yield return new Claim(AdminClaim, caller.IsTenantAdmin ? "true" : "false");
        yield return new Claim(OperatorClaim, caller.IsOperator ? "true" : "false");
    }

    /// <summary>
    /// Keeps the caller that <paramref name="principal"/> was made from with the request, so that
    /// <see cref="GetCaller"/> need not parse it back from the claims while the request's user is that principal.
    /// </summary>
    internal static void Remember(HttpContext context, ClaimsPrincipal principal, Caller caller) =>
        context.Features.Set(new AuthenticatedCaller(principal, caller));

    /// <summary>The authenticated caller of the request.</summary>
    /// <exception cref="InvalidOperationException">The endpoint was reached without authentication (a wiring error).</exception>
    public static Caller GetCaller(this HttpContext context) =>
        context.Features.Get<AuthenticatedCaller>() is { } known && ReferenceEquals(known.Principal, context.User) && context.User.Identity?.IsAuthenticated == true
            ? known.Caller
            : FromClaims(context);

    private static Caller FromClaims(HttpContext context) => context.User.Identity?.IsAuthenticated == true
        ? new Caller(
            Guid.Parse(context.User.FindFirstValue(ClaimTypes.NameIdentifier)!),
            Guid.Parse(context.User.FindFirstValue(TenantClaim)!),
            context.User.FindFirstValue(ClaimTypes.Name)!,
            context.User.FindFirstValue(AdminClaim) == "true",
            context.User.FindFirstValue(OperatorClaim) == "true")
        : throw new InvalidOperationException("The endpoint requires authorization but none ran.");
}

/// <summary>The caller the bearer handler authenticated, with the principal it became (a request feature).</summary>
internal sealed record AuthenticatedCaller(ClaimsPrincipal Principal, Caller Caller);
