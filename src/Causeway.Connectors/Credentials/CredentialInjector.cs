using System.Text;

namespace Causeway.Connectors;

/// <summary>How a call was authenticated to the backend.</summary>
public enum CredentialKind
{
    /// <summary>No security definition: nothing added (policies may still add headers).</summary>
    Anonymous,
    /// <summary>An API key header or query parameter.</summary>
    ApiKey,
    /// <summary>HTTP basic.</summary>
    Basic,
    /// <summary>An OAuth bearer token.</summary>
    OAuth2,
}

/// <summary>The connection lacks a value the connector's security definition needs. The message names the parameter, never a value.</summary>
public sealed class CredentialException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CredentialException(string message)
        : base(message)
    {
    }

    /// <summary>Required by CA1032.</summary>
    public CredentialException()
        : this("the connection lacks a credential")
    {
    }

    /// <summary>Required by CA1032.</summary>
    public CredentialException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Adds a connection's credentials to the backend request, from the swagger securityDefinitions:
/// <list type="bullet">
/// <item>apiKey: the value of the connection parameter <c>api_key</c> (the platform's convention for API-key
/// connectors), else the only securestring parameter, goes into the named header or query parameter;</item>
/// <item>basic: connection parameters <c>username</c> and <c>password</c> become <c>Authorization: Basic ...</c>;</item>
/// <item>oauth2: the current access token, which the server stores under the oauthSetting parameter's name
/// (usually <c>token</c>), becomes <c>Authorization: Bearer ...</c>;</item>
/// <item>no definition: OAuth 2.0 when a connection parameter is an oauthSetting (Microsoft's own packages), else
/// anonymous, nothing added.</item>
/// </list>
/// With several definitions the first one whose values the connection has wins. Runs before the request policies,
/// which may rewrite the header (for example <c>Bearer @headers('Authorization')</c>). Pure and thread-safe.
/// </summary>
public static class CredentialInjector
{
    /// <summary>The conventional connection parameter of an API key.</summary>
    public const string ApiKeyParameter = "api_key";

    /// <summary>Applies the credentials; throws <see cref="CredentialException"/> when the connection lacks them.</summary>
    public static CredentialKind Apply(ConnectorDefinition definition, ApimRequest request, IReadOnlyDictionary<string, string> connectionValues)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(connectionValues);
        var values = ConnectionValueMap.IgnoringCase(connectionValues);
        var schemes = definition.SecuritySchemes;
        if (schemes.Count == 0)
        {
            // Microsoft's own packages (Planner, AzureAD ...) declare no securityDefinitions: their oauthSetting
            // connection parameter alone says the platform signs calls with the user's token.
            if (!AllParameters(definition).Any(p => p.Type == ConnectionParameterType.OAuthSetting))
            {
                return CredentialKind.Anonymous;
            }

            schemes = [new SecurityScheme("oauthSetting", SecuritySchemeKind.OAuth2, null, null, null, null, null)];
        }

        string? firstProblem = null;
        foreach (var scheme in schemes)
        {
            var problem = TryApply(definition, scheme, request, values);
            if (problem is null)
            {
                return scheme.Kind switch
                {
                    SecuritySchemeKind.ApiKey => CredentialKind.ApiKey,
                    SecuritySchemeKind.Basic => CredentialKind.Basic,
                    _ => CredentialKind.OAuth2,
                };
            }

            firstProblem ??= problem;
        }

        throw new CredentialException($"connector '{definition.Name}': {firstProblem}");
    }

    private static string? TryApply(ConnectorDefinition definition, SecurityScheme scheme, ApimRequest request, IReadOnlyDictionary<string, string> values)
    {
        switch (scheme.Kind)
        {
            case SecuritySchemeKind.ApiKey:
                // The connector's securestring parameters are only looked at when the conventional name is absent.
                var name = values.ContainsKey(ApiKeyParameter) ? ApiKeyParameter : OnlySecureParameter(definition) ?? ApiKeyParameter;
                if (!values.TryGetValue(name, out var key) || string.IsNullOrEmpty(key))
                {
                    return $"the connection has no value for '{name}' (API key)";
                }

                if (scheme.In == "query")
                {
                    request.Query.Set(scheme.ParameterName!, key);
                }
                else
                {
                    request.Headers.Set(scheme.ParameterName!, key);
                }

                return null;
            case SecuritySchemeKind.Basic:
                if (!values.TryGetValue("username", out var user) || !values.TryGetValue("password", out var password))
                {
                    return "the connection needs 'username' and 'password' (basic authentication)";
                }

                request.Headers.Set("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
                return null;
            default:
                var oauth = AllParameters(definition).FirstOrDefault(p => p.Type == ConnectionParameterType.OAuthSetting)?.Name ?? "token";
                if (!values.TryGetValue(oauth, out var token) || string.IsNullOrEmpty(token))
                {
                    return $"the connection has no access token under '{oauth}' (OAuth 2.0); sign in again";
                }

                request.Headers.Set("Authorization", "Bearer " + token);
                return null;
        }
    }

    private static string? OnlySecureParameter(ConnectorDefinition definition)
    {
        var secrets = AllParameters(definition).Where(p => p.Type == ConnectionParameterType.SecureString).Select(p => p.Name).Distinct().ToList();
        return secrets.Count == 1 ? secrets[0] : null;
    }

    private static IEnumerable<ConnectionParameter> AllParameters(ConnectorDefinition definition) =>
        definition.ConnectionParameters.Concat(definition.ConnectionParameterSets.SelectMany(s => s.Parameters));
}
