using Causeway.Relay.HybridConnections;
using Causeway.Security;

namespace Causeway.Relay.DataPlane;

internal enum AuthorizationOutcome
{
    Allowed,
    Unauthorized,
    Forbidden,
}

/// <summary>The decision about one token; <see cref="Reason"/> is safe to show (it never contains the token).</summary>
internal readonly record struct AuthorizationResult(AuthorizationOutcome Outcome, string Reason, DateTimeOffset ExpiresAt)
{
    public int StatusCode => Outcome switch
    {
        AuthorizationOutcome.Allowed => StatusCodes.Status200OK,
        AuthorizationOutcome.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status401Unauthorized,
    };
}

/// <summary>
/// Checks SAS tokens against a hybrid connection's rules. The token's resource may be any of the forms clients use —
/// Microsoft's <c>http://host/path</c> (no port, no <c>$hc/</c>), or https/sb/wss with port — and, as in Azure, grants
/// every entity at or below its path.
/// </summary>
internal sealed class RelayAuthorizer(TimeProvider timeProvider)
{
    private static readonly HashSet<string> Schemes = new(StringComparer.OrdinalIgnoreCase) { "http", "https", "sb", "ws", "wss" };

    public AuthorizationResult Authorize(HybridConnection hybridConnection, string? token, AccessRights required)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return Fail(AuthorizationOutcome.Unauthorized, "A SAS token is required (query 'sb-hc-token' or header 'ServiceBusAuthorization').");
        }

        if (!SharedAccessSignature.TryParse(token, out var parsed))
        {
            return Fail(AuthorizationOutcome.Unauthorized, "The SAS token is malformed.");
        }

        if (parsed.IsExpired(timeProvider.GetUtcNow()))
        {
            return Fail(AuthorizationOutcome.Unauthorized, "The SAS token has expired.");
        }

        var rule = hybridConnection.AuthorizationRules.FirstOrDefault(r => string.Equals(r.KeyName, parsed.KeyName, StringComparison.Ordinal));
        if (rule is null ||
            !(SharedAccessSignature.IsSignatureValid(parsed, rule.PrimaryKey) || SharedAccessSignature.IsSignatureValid(parsed, rule.SecondaryKey)))
        {
            return Fail(AuthorizationOutcome.Unauthorized, "The SAS token's signature is invalid.");
        }

        if (!ResourceCovers(parsed.Resource, hybridConnection.Path))
        {
            return Fail(AuthorizationOutcome.Unauthorized, "The SAS token was issued for another resource.");
        }

        if (!rule.Grants(required))
        {
            return Fail(AuthorizationOutcome.Forbidden, $"The SAS token does not grant the '{required}' right.");
        }

        return new AuthorizationResult(AuthorizationOutcome.Allowed, "", parsed.ExpiresAt);
    }

    /// <summary>True when the token's resource URI names <paramref name="path"/> or one of its parent paths.</summary>
    internal static bool ResourceCovers(string resource, string path)
    {
        if (!Uri.TryCreate(resource, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme))
        {
            return false;
        }

        var resourcePath = Uri.UnescapeDataString(uri.AbsolutePath).Trim('/');
        if (resourcePath.StartsWith("$hc/", StringComparison.OrdinalIgnoreCase))
        {
            resourcePath = resourcePath[4..];
        }
        else if (resourcePath.Equals("$hc", StringComparison.OrdinalIgnoreCase))
        {
            resourcePath = "";
        }

        var target = path.Trim('/');
        return resourcePath.Length == 0 ||
            target.Equals(resourcePath, StringComparison.OrdinalIgnoreCase) ||
            target.StartsWith(resourcePath + "/", StringComparison.OrdinalIgnoreCase);
    }

    private static AuthorizationResult Fail(AuthorizationOutcome outcome, string reason) => new(outcome, reason, default);
}
