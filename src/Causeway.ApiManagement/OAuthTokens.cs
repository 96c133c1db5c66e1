using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Causeway.ApiManagement;

/// <summary>The OAuth token endpoint refused, or the connection has no way to get a token. The message holds no secret.</summary>
internal sealed class OAuthException(string message) : Exception(message);

/// <summary>
/// OAuth 2.0 for connections: the consent URL of the authorization-code flow, the code exchange at the platform's
/// redirect endpoint, refresh-token and client-credentials grants. Tokens are stored sealed through
/// <see cref="ConnectionStore"/>. A refresh is serialized per connection, so concurrent calls that all see an expired
/// token cause one refresh. Thread-safe.
/// </summary>
internal sealed class OAuthTokens(ConnectionStore connections, BackendClient backend, TimeProvider time)
{
    // A token this close to expiry is refreshed before use: the call may take that long to reach the backend.
    private static readonly TimeSpan ExpirySkew = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _locks = new();

    public static string ConsentUrl(OAuthConfig config, string state)
    {
        var query = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("client_id", config.ClientId),
            new("redirect_uri", config.RedirectUri ?? ""),
            new("state", state),
        };
        if (!string.IsNullOrEmpty(config.Scopes))
        {
            query.Add(new("scope", config.Scopes));
        }

        var separator = config.AuthorizationUrl!.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return config.AuthorizationUrl + separator + string.Join('&', query.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
    }

    /// <summary>True when the secrets hold an access token that is not (nearly) expired.</summary>
    public bool IsFresh(ConnectionSecrets secrets) =>
        !string.IsNullOrEmpty(secrets.AccessToken) && (secrets.ExpiresAt is null || secrets.ExpiresAt > time.GetUtcNow() + ExpirySkew);

    /// <summary>
    /// Returns secrets with a usable access token: the stored one when fresh (unless <paramref name="rejected"/> names it),
    /// else a new one from the refresh token or client credentials, stored before it is returned.
    /// </summary>
    /// <exception cref="OAuthException">No token can be had; the connection is marked Unauthenticated.</exception>
    public async Task<ConnectionSecrets> EnsureAsync(ConnectionRecord record, ConnectionSecrets secrets, string? rejected, CancellationToken cancellationToken)
    {
        if (rejected is null && IsFresh(secrets))
        {
            return secrets;
        }

        var gate = _locks.GetOrAdd(record.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Another call may have refreshed while this one waited.
            var current = await connections.FindAsync(record.TenantId, record.Id, cancellationToken) is { } fresh ? connections.Unseal(fresh) : secrets;
            if (current.AccessToken != rejected && IsFresh(current))
            {
                return current;
            }

            var config = record.OAuth ?? throw new OAuthException("the connection has no OAuth settings");
            var form = new Dictionary<string, string> { ["client_id"] = config.ClientId };
            if (current.ClientSecret is { Length: > 0 } clientSecret)
            {
                form["client_secret"] = clientSecret;
            }

            string url;
            if (!string.IsNullOrEmpty(current.RefreshToken))
            {
                form["grant_type"] = "refresh_token";
                form["refresh_token"] = current.RefreshToken;
                url = config.RefreshUrl ?? config.TokenUrl;
            }
            else if (config.GrantType == OAuthConfig.ClientCredentials)
            {
                form["grant_type"] = OAuthConfig.ClientCredentials;
                url = config.TokenUrl;
            }
            else
            {
                const string Reason = "the OAuth token has expired and there is no refresh token: sign in again";
                await connections.SetStatusAsync(record, ConnectionStatus.Unauthenticated, Reason, cancellationToken);
                throw new OAuthException(Reason);
            }

            if (config.GrantType == OAuthConfig.ClientCredentials && !string.IsNullOrEmpty(config.Scopes))
            {
                form["scope"] = config.Scopes;
            }

            return await RequestTokenAsync(record, current, url, form, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Exchanges an authorization code (the redirect endpoint) and stores the tokens.</summary>
    public async Task<ConnectionSecrets> ExchangeCodeAsync(ConnectionRecord record, string code, CancellationToken cancellationToken)
    {
        var config = record.OAuth ?? throw new OAuthException("the connection has no OAuth settings");
        var secrets = connections.Unseal(record);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = OAuthConfig.AuthorizationCode,
            ["code"] = code,
            ["redirect_uri"] = config.RedirectUri ?? "",
            ["client_id"] = config.ClientId,
        };
        if (secrets.ClientSecret is { Length: > 0 } clientSecret)
        {
            form["client_secret"] = clientSecret;
        }

        return await RequestTokenAsync(record, secrets, config.TokenUrl, form, cancellationToken);
    }

    private async Task<ConnectionSecrets> RequestTokenAsync(ConnectionRecord record, ConnectionSecrets secrets, string url, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        var (target, host) = backend.Resolve(new Uri(url));
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        JsonElement body;
        int status;
        try
        {
            using var response = await backend.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            try
            {
                body = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                body = default;
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = $"the OAuth token endpoint {new Uri(url).Authority} could not be reached ({(e is HttpRequestException h ? h.HttpRequestError.ToString() : "timeout")})";
            await connections.SetStatusAsync(record, ConnectionStatus.Error, reason, cancellationToken);
            throw new OAuthException(reason);
        }

        if (status is < 200 or > 299 || body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("access_token", out var access) || access.ValueKind != JsonValueKind.String)
        {
            // error and error_description are defined by RFC 6749 to be safe to show; nothing else of the body is echoed.
            var error = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var e) ? e.ToString() : null;
            var description = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error_description", out var d) ? d.ToString() : null;
            var reason = $"the OAuth token endpoint answered {status}" + (error is null ? " without an access token" : $": {error}") + (description is null ? "" : $" ({description})");
            await connections.SetStatusAsync(record, ConnectionStatus.Unauthenticated, reason, cancellationToken);
            throw new OAuthException(reason);
        }

        secrets.AccessToken = access.GetString();
        if (body.TryGetProperty("refresh_token", out var refresh) && refresh.ValueKind == JsonValueKind.String)
        {
            secrets.RefreshToken = refresh.GetString();
        }

        secrets.ExpiresAt = body.TryGetProperty("expires_in", out var expires) && (expires.ValueKind == JsonValueKind.Number ? expires.TryGetInt64(out var s) : long.TryParse(expires.ToString(), out s))
            ? time.GetUtcNow().AddSeconds(s)
            : null;
        await connections.UpdateSecretsAsync(record, secrets, ConnectionStatus.Connected, null, cancellationToken);
        return secrets;
    }
}
