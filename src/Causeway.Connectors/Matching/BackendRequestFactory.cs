using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>
/// Builds the backend request of a matched operation before credentials and policies: base URL from the swagger
/// scheme, host and basePath; the path template filled with the path values (URL-encoded once); the incoming query
/// passed through, with defaults for absent parameters that have one; the declared header parameters, Accept and
/// Content-Type copied; the body as given.
/// </summary>
public static class BackendRequestFactory
{
    /// <summary>Creates the request. Headers are only those the operation declares (plus Accept and Content-Type), so that the caller's platform token never reaches a third party.</summary>
    public static ApimRequest Create(
        ConnectorDefinition definition,
        OperationMatch match,
        IEnumerable<KeyValuePair<string, string>>? query = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        JsonNode? json = null,
        ReadOnlyMemory<byte>? rawBody = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(match);
        var operation = match.Operation;
        var request = new ApimRequest
        {
            Method = operation.Method,
            BaseUrl = BaseUrl(definition),
            Json = json,
            RawBody = json is null ? rawBody : null,
        };

        var path = operation.PathTemplate;
        foreach (var (name, value) in match.PathParameters)
        {
            path = path.Replace("{*" + name + "}", string.Join('/', value.Split('/').Select(Uri.EscapeDataString)), StringComparison.Ordinal)
                .Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
        }

        request.Path = path.StartsWith('/') ? path : "/" + path;
        foreach (var (k, v) in query ?? [])
        {
            request.Query.Add(k, v);
        }

        foreach (var p in operation.Parameters)
        {
            switch (p.In)
            {
                case ParameterLocation.Query when !request.Query.Contains(p.Name) && p.Default is not null:
                    request.Query.Add(p.Name, Text(p.Default));
                    break;
                case ParameterLocation.Header:
                    var value = Find(headers, p.Name) ?? (p.Default is null ? null : Text(p.Default));
                    if (value is not null)
                    {
                        request.Headers.Set(p.Name, value);
                    }

                    break;
            }
        }

        foreach (var name in CopiedHeaders)
        {
            if (!request.Headers.Contains(name) && Find(headers, name) is { } value)
            {
                request.Headers.Set(name, value);
            }
        }

        return request;
    }

    private static readonly string[] CopiedHeaders = ["Accept", "Content-Type"];

    private static string? Find(IEnumerable<KeyValuePair<string, string>>? headers, string name)
    {
        foreach (var (key, value) in headers ?? [])
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>scheme://host + basePath, or "" when the swagger has no host (a dynamichosturl policy must supply it).</summary>
    public static string BaseUrl(ConnectorDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (string.IsNullOrWhiteSpace(definition.Host))
        {
            return "";
        }

        var scheme = definition.Schemes.Contains("https", StringComparer.OrdinalIgnoreCase) ? "https" : definition.Schemes[0].ToLowerInvariant();
        return $"{scheme}://{definition.Host.Trim().TrimEnd('/')}{definition.BasePath}";
    }

    private static string Text(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : node is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? b.GetValue<bool>().ToString(CultureInfo.InvariantCulture).ToLowerInvariant()
            : node.ToJsonString();
}
