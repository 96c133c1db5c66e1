using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Causeway.ApiManagement.Tests;

/// <summary>
/// A small OAuth 2.0 server on the test backend's Kestrel: /authorize redirects back with a code, /token serves the
/// authorization_code, refresh_token and client_credentials grants for one client, and the resource paths under
/// /resource accept only the access tokens currently valid.
/// </summary>
public sealed class FakeOAuthServer
{
    public const string ClientId = "causeway-client";
    public const string ClientSecret = "client-secret-canary-5e1f";

    private int _counter;

    public ConcurrentQueue<string> Grants { get; } = new();

    public ConcurrentDictionary<string, bool> ValidAccessTokens { get; } = new();

    public ConcurrentDictionary<string, bool> ValidRefreshTokens { get; } = new();

    public ConcurrentDictionary<string, string> Codes { get; } = new();

    /// <summary>Every access token issued so far stops working (they "expire").</summary>
    public void ExpireAccessTokens() => ValidAccessTokens.Clear();

    public void Map(WebApplication app)
    {
        app.MapGet("/authorize", (HttpContext context) =>
        {
            var q = context.Request.Query;
            if (q["client_id"] != ClientId || q["response_type"] != "code")
            {
                return Results.BadRequest();
            }

            var code = $"code-{Interlocked.Increment(ref _counter)}";
            Codes[code] = q["redirect_uri"].ToString();
            return Results.Redirect($"{q["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });

        app.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var grant = form["grant_type"].ToString();
            Grants.Enqueue(grant);
            if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }

            var ok = grant switch
            {
                "authorization_code" => Codes.TryRemove(form["code"].ToString(), out var redirect) && redirect == form["redirect_uri"],
                "refresh_token" => ValidRefreshTokens.TryRemove(form["refresh_token"].ToString(), out _),
                "client_credentials" => true,
                _ => false,
            };
            if (!ok)
            {
                return Results.Json(new { error = "invalid_grant", error_description = "the grant is not valid" }, statusCode: 400);
            }

            var n = Interlocked.Increment(ref _counter);
            var access = $"at-{n}";
            ValidAccessTokens[access] = true;
            if (grant == "client_credentials")
            {
                return Results.Json(new { access_token = access, token_type = "Bearer", expires_in = 3600 });
            }

            var refresh = $"rt-{n}";
            ValidRefreshTokens[refresh] = true;
            return Results.Json(new { access_token = access, refresh_token = refresh, token_type = "Bearer", expires_in = 3600 });
        });
    }

    /// <summary>True when the request carries a currently valid bearer token.</summary>
    public bool Authorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && ValidAccessTokens.ContainsKey(header[7..]);
    }
}
