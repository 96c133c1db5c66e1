using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>
/// Runs a connector's policy template instances around the backend call: the request section before it, the
/// response section after it, each in declared order and only for the operations a policy names. Pure over the
/// <see cref="PolicyContext"/>: the only I/O is a setvaluefromurl side request, through
/// <see cref="PolicyContext.SideRequests"/>. Throws <see cref="PolicyException"/> when a policy cannot apply.
/// </summary>
public static class PolicyPipeline
{
    // Templates that only touch the URL, headers or status; every other one works on the body as JSON.
    private static readonly HashSet<string> NonBodyTemplates = new(
        [PolicyTemplateIds.SetHeader, PolicyTemplateIds.SetQueryParameter, PolicyTemplateIds.DynamicHostUrl, PolicyTemplateIds.DynamicSubdomain,
         PolicyTemplateIds.RouteRequestToEndpoint, PolicyTemplateIds.SetValueFromUrl, PolicyTemplateIds.PollingTrigger,
         PolicyTemplateIds.SetConnectionStatusToUnauthenticated], StringComparer.Ordinal);

    /// <summary>
    /// True when a policy of <paramref name="section"/> for <paramref name="operation"/> works on the body, so that the
    /// body must be read and parsed as JSON first; false lets the body stream through untouched.
    /// </summary>
    public static bool ReadsBody(ConnectorDefinition connector, ConnectorOperation operation, PolicySection section)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(operation);
        foreach (var p in connector.PoliciesFor(operation, section))
        {
            if (!NonBodyTemplates.Contains(p.TemplateId))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Applies the request-section policies to <see cref="PolicyContext.Request"/>.</summary>
    public static async Task ApplyRequestAsync(PolicyContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var policy in context.Connector.PoliciesFor(context.Operation, PolicySection.Request))
        {
            if (policy.TemplateId == PolicyTemplateIds.SetValueFromUrl)
            {
                await SetValueFromUrlAsync(policy, context, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                Apply(policy, context, PolicySection.Request);
            }
        }

        if (string.IsNullOrEmpty(context.Request.BaseUrl))
        {
            throw new PolicyException("dynamichosturl", "the connector has no host and no policy supplied one");
        }
    }

    /// <summary>Applies the response-section policies to <see cref="PolicyContext.Response"/>.</summary>
    public static void ApplyResponse(PolicyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response is null)
        {
            throw new InvalidOperationException("Set PolicyContext.Response before applying response policies.");
        }

        foreach (var policy in context.Connector.PoliciesFor(context.Operation, PolicySection.Response))
        {
            Apply(policy, context, PolicySection.Response);
        }
    }

    private static void Apply(PolicyTemplateInstance policy, PolicyContext context, PolicySection section)
    {
        var request = context.Request;
        switch (policy.TemplateId)
        {
            case PolicyTemplateIds.SetHeader:
                var headers = section == PolicySection.Request ? request.Headers : context.Response!.Headers;
                SetPair(policy, context, headers, Uri.UnescapeDataString(policy.Get("name")!));
                break;
            case PolicyTemplateIds.SetQueryParameter:
                SetPair(policy, context, request.Query, Uri.UnescapeDataString(policy.Get("name")!));
                break;
            case PolicyTemplateIds.DynamicHostUrl:
            case PolicyTemplateIds.DynamicSubdomain:
                SetHost(policy, context);
                break;
            case PolicyTemplateIds.RouteRequestToEndpoint:
                Route(policy, context);
                break;
            case PolicyTemplateIds.UpdateNextLink:
                UpdateNextLink(policy, context);
                break;
            case PolicyTemplateIds.SetConnectionStatusToUnauthenticated:
                var status = int.TryParse(policy.Get("statusCode"), out var s) ? s : 401;
                if (context.Response!.StatusCode == status)
                {
                    context.ConnectionUnauthenticated = true;
                    context.Trace?.Add($"{policy.TemplateId}: status {status}, connection marked unauthenticated");
                }

                break;
            case PolicyTemplateIds.PollingTrigger:
                // Read by the flow engine (ConnectorOperation.PollingTrigger); a single call is unchanged.
                break;
            case PolicyTemplateIds.SetValueFromUrl:
                throw new PolicyException(policy.TemplateId, "runs only in the request section");
            default:
                BodyPolicies.Apply(policy, context, section);
                break;
        }
    }

    private static void SetPair(PolicyTemplateInstance policy, PolicyContext context, NameValueList list, string name)
    {
        var value = PolicyExpressions.Evaluate(policy.Get("value") ?? "", context, context.Request, remember: true);
        var action = (policy.Get("existsAction") ?? "override").ToLowerInvariant();

        // An empty value comes from an optional connection parameter left blank: sending an empty header or query
        // parameter would only confuse the backend.
        if (value.Length == 0)
        {
            context.Trace?.Add($"{policy.TemplateId} {name}: empty value, skipped");
            return;
        }

        switch (action)
        {
            case "skip" when list.Contains(name):
                context.Trace?.Add($"{policy.TemplateId} {name}: present, skipped");
                return;
            case "append":
                list.Add(name, value);
                break;
            default:
                list.Set(name, value);
                break;
        }

        context.Trace?.Add($"{policy.TemplateId} {name}: {action}");
    }

    private static void SetHost(PolicyTemplateInstance policy, PolicyContext context)
    {
        var url = PolicyExpressions.Evaluate(policy.Get("urlTemplate")!, context, context.Request, remember: true).Trim();
        string? query = null;
        var q = url.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = url[(q + 1)..];
            url = url[..q];
        }

        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            url = "https://" + url.TrimStart('/');
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.Host.StartsWith('.') || uri.Host.EndsWith('.'))
        {
            // The URL is built from connection values; name the template, not the values.
            throw new PolicyException(policy.TemplateId, "the URL template does not give a valid absolute URL with this connection's values");
        }

        context.Request.BaseUrl = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (query is not null)
        {
            AddQuery(context.Request.Query, query);
        }

        context.Trace?.Add($"{policy.TemplateId}: host {uri.Authority}");
    }

    private static void Route(PolicyTemplateInstance policy, PolicyContext context)
    {
        var newPath = SubstitutePathParameters(policy.Get("newPath")!, context);
        newPath = PolicyExpressions.Evaluate(newPath, context, context.Request);
        var q = newPath.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            foreach (var (k, v) in ParseQuery(newPath[(q + 1)..]))
            {
                context.Request.Query.Set(k, v);
            }

            newPath = newPath[..q];
        }

        context.Request.Path = newPath.StartsWith('/') ? newPath : "/" + newPath;
        var method = policy.Get("httpMethod");
        if (!string.IsNullOrWhiteSpace(method) && !method.StartsWith('@'))
        {
            context.Request.Method = method.Trim().ToUpperInvariant();
        }

        context.Trace?.Add($"{policy.TemplateId}: {context.Request.Method} {context.Request.Path}");
    }

    /// <summary>Replaces <c>{name}</c> with the URL-encoded path parameter, or query parameter, of that name.</summary>
    internal static string SubstitutePathParameters(string template, PolicyContext context)
    {
        var result = template;
        foreach (var (name, value) in context.PathParameters)
        {
            result = result.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
        }

        foreach (var (name, value) in context.Request.Query)
        {
            result = result.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
        }

        return result;
    }

    private static void UpdateNextLink(PolicyTemplateInstance policy, PolicyContext context)
    {
        var property = policy.Get("nextLinkPropertyName")!;
        if (context.Response!.Json is not JsonObject body || body[property] is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        if (context.FrontendBaseUri is null)
        {
            context.Trace?.Add($"{policy.TemplateId}: no frontend base, left unchanged");
            return;
        }

        var link = v.GetValue<string>();
        var backendBase = context.Request.BaseUrl.TrimEnd('/');
        string? rest = null;
        if (link.StartsWith(backendBase + "/", StringComparison.OrdinalIgnoreCase) || link.StartsWith(backendBase + "?", StringComparison.OrdinalIgnoreCase))
        {
            rest = link[backendBase.Length..];
        }
        else if (link.StartsWith('/'))
        {
            rest = link;
        }

        if (rest is null)
        {
            context.Trace?.Add($"{policy.TemplateId}: link points elsewhere, left unchanged");
            return;
        }

        // A routed operation's next page is asked for on the operation's own path, which routes it again.
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        var path = q >= 0 ? rest[..q] : rest;
        if (string.Equals(path, context.Request.Path, StringComparison.Ordinal))
        {
            rest = context.OriginalPath + (q >= 0 ? rest[q..] : "");
        }

        body[property] = context.FrontendBaseUri.ToString().TrimEnd('/') + rest;
        context.Trace?.Add($"{policy.TemplateId}: {property} points at the frontend");
    }

    private static async Task SetValueFromUrlAsync(PolicyTemplateInstance policy, PolicyContext context, CancellationToken cancellationToken)
    {
        if (context.SideRequests is null)
        {
            throw new PolicyException(policy.TemplateId, "needs a side request sender (PolicyContext.SideRequests)");
        }

        var url = PolicyExpressions.Evaluate(SubstitutePathParameters(policy.Get("parameterValueUrl")!, context), context, context.Request);
        var side = context.Request.Clone();
        side.Method = (policy.Get("httpMethod") ?? "GET").Trim().ToUpperInvariant();
        side.Json = null;
        side.RawBody = null;
        side.Headers.Remove("Content-Type");
        side.Headers.Remove("Content-Length");
        side.Headers.Remove("If-Match");
        side.Query.Clear();
        var q = url.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            AddQuery(side.Query, url[(q + 1)..]);
            url = url[..q];
        }

        side.Path = url.StartsWith('/') ? url : "/" + url;
        var response = await context.SideRequests(side, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is < 200 or > 299)
        {
            throw new PolicyException(policy.TemplateId, $"the side request {side.Method} {side.Path} answered {response.StatusCode}");
        }

        if (!BodyPath.TryParse(policy.Get("parameterValuePathTemplate")!, out var valuePath)
            || valuePath.Resolve(response.Json, null) is not { } node)
        {
            context.Trace?.Add($"{policy.TemplateId}: the side response has no value at {policy.Get("parameterValuePathTemplate")}, skipped");
            return;
        }

        var value = node is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : node.ToJsonString();
        var target = PolicyExpressions.References(policy.Get("parameterTemplate")!).FirstOrDefault();
        switch (target.Function)
        {
            case "headers":
                context.Request.Headers.Set(target.Name, value);
                break;
            case "queryparameters":
                context.Request.Query.Set(target.Name, value);
                break;
            default:
                throw new PolicyException(policy.TemplateId, "parameterTemplate must be @headers('name') or @queryParameters('name')");
        }

        context.Trace?.Add($"{policy.TemplateId}: {target.Function} {target.Name} set from {side.Method} {side.Path}");
    }

    private static void AddQuery(NameValueList query, string text)
    {
        foreach (var (k, v) in ParseQuery(text))
        {
            query.Set(k, v);
        }
    }

    internal static IEnumerable<(string Name, string Value)> ParseQuery(string text)
    {
        foreach (var part in text.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            yield return (Uri.UnescapeDataString(name.Replace('+', ' ')), Uri.UnescapeDataString(value.Replace('+', ' ')));
        }
    }
}
