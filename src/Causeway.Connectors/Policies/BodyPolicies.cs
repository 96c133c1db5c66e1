using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>
/// The templates that rewrite a JSON body. They share one shape: a parent path (<c>@body()</c>, <c>@body().value</c>),
/// a sub path under it, and a new path to write to. When the parent is an array the template runs once per element,
/// and <c>@item()</c> in the new path is that element; when it is an object, <c>@item()</c> is the object itself.
/// A template whose input is absent does nothing (optional fields stay optional).
/// </summary>
internal static class BodyPolicies
{
    public static void Apply(PolicyTemplateInstance policy, PolicyContext context, PolicySection section)
    {
        JsonNode? body = section == PolicySection.Request ? context.Request.Json : context.Response!.Json;
        var changed = policy.TemplateId switch
        {
            PolicyTemplateIds.SetProperty => SetProperty(policy, context, section, ref body),
            PolicyTemplateIds.MoveProperties => MoveProperties(policy, body),
            _ => ForEachTarget(policy, body, (item, value) => Transform(policy, value), out var count) && count > 0,
        };

        if (section == PolicySection.Request)
        {
            context.Request.Json = body;
        }
        else
        {
            context.Response!.Json = body;
        }

        context.Trace?.Add($"{policy.TemplateId}: {(changed ? "applied" : "nothing to change")}");
    }

    private static JsonNode? Transform(PolicyTemplateInstance policy, JsonNode value)
    {
        switch (policy.TemplateId)
        {
            case PolicyTemplateIds.StringReplace:
                return AsString(value) is { } s
                    ? JsonValue.Create(s.Replace(policy.Get("sourceString")!, policy.Get("replacementString") ?? "", StringComparison.Ordinal))
                    : null;
            case PolicyTemplateIds.EncodePropertyValue:
                return AsString(value) is { } e ? JsonValue.Create(Uri.EscapeDataString(e)) : null;
            case PolicyTemplateIds.StringToArray:
                if (AsString(value) is not { } text)
                {
                    return null;
                }

                var delimiters = (policy.Get("delimiterList") ?? ";").ToCharArray();
                var child = policy.Get("childPropertyName");
                var array = new JsonArray();
                foreach (var part in text.Split(delimiters, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    array.Add(string.IsNullOrEmpty(child) ? JsonValue.Create(part) : new JsonObject { [child] = part });
                }

                return array;
            case PolicyTemplateIds.ConvertObjectToArray:
                if (value is not JsonObject obj)
                {
                    return null;
                }

                var keyName = policy.Get("keyName") ?? "key";
                var valueName = policy.Get("valueName");
                var result = new JsonArray();
                foreach (var (k, v) in obj)
                {
                    var entry = new JsonObject { [keyName] = k };
                    if (string.IsNullOrEmpty(valueName) && v is JsonObject inner)
                    {
                        foreach (var (ik, iv) in inner)
                        {
                            entry[ik] = iv?.DeepClone();
                        }
                    }
                    else
                    {
                        entry[string.IsNullOrEmpty(valueName) ? "value" : valueName] = v?.DeepClone();
                    }

                    result.Add(entry);
                }

                return result;
            case PolicyTemplateIds.ConvertArrayToObject:
                if (value is not JsonArray items)
                {
                    return null;
                }

                var key = policy.Get("keyWithinCollectionPath")!;
                var retain = string.Equals(policy.Get("retainKey"), "true", StringComparison.OrdinalIgnoreCase);
                var converted = new JsonObject();
                foreach (var element in items.OfType<JsonObject>())
                {
                    if (AsString(element[key]) is not { } k)
                    {
                        continue;
                    }

                    var copy = element.DeepClone().AsObject();
                    if (!retain)
                    {
                        copy.Remove(key);
                    }

                    converted[k] = copy;
                }

                return converted;
            default:
                throw new PolicyException(policy.TemplateId, "is not a body template");
        }
    }

    private static string? AsString(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
        _ => null,
    };

    /// <summary>Runs <paramref name="transform"/> over the sub path of every target and writes the result to the new path.</summary>
    private static bool ForEachTarget(PolicyTemplateInstance policy, JsonNode? body, Func<JsonNode, JsonNode, JsonNode?> transform, out int count)
    {
        count = 0;
        if (!BodyPath.TryParse(policy.Get("propertyParentPath")!, out var parentPath))
        {
            throw new PolicyException(policy.TemplateId, "propertyParentPath is not a body path");
        }

        if (!BodyPath.TryParseSegments(policy.Get("propertySubPath")!, out var sub))
        {
            throw new PolicyException(policy.TemplateId, "propertySubPath is not a property path");
        }

        var newPathText = policy.Get("newPropertyPath");
        BodyPath? newPath = null;
        if (!string.IsNullOrWhiteSpace(newPathText) && !BodyPath.TryParse(newPathText, out newPath))
        {
            throw new PolicyException(policy.TemplateId, "newPropertyPath is not a body path");
        }

        foreach (var item in Targets(parentPath.Resolve(body, null)))
        {
            if (BodyPath.Walk(item, sub) is not { } value || transform(item, value) is not { } result)
            {
                continue;
            }

            if (newPath is null)
            {
                Write(item, sub, result);
            }
            else
            {
                Write(newPath.FromItem ? item : body!, newPath.Segments, result);
            }

            count++;
        }

        return true;
    }

    private static IEnumerable<JsonObject> Targets(JsonNode? parent) => parent switch
    {
        JsonArray a => a.OfType<JsonObject>().ToList(),
        JsonObject o => [o],
        _ => [],
    };

    private static bool SetProperty(PolicyTemplateInstance policy, PolicyContext context, PolicySection section, ref JsonNode? body)
    {
        var parentText = policy.Get("newPropertyParentPathTemplate")!;
        if (!BodyPath.TryParse(parentText, out var parentPath))
        {
            throw new PolicyException(policy.TemplateId, "newPropertyParentPathTemplate is not a body path");
        }

        if (!BodyPath.TryParseSegments(policy.Get("newPropertySubPathTemplate")!, out var sub) || sub.Count == 0)
        {
            throw new PolicyException(policy.TemplateId, "newPropertySubPathTemplate is not a property path");
        }

        // Setting a property on an absent body creates the body (a GET made into a POST by the same package).
        if (body is null && parentPath.Segments.Count == 0)
        {
            body = new JsonObject();
        }

        var changed = false;
        var request = section == PolicySection.Request ? context.Request : null;
        foreach (var item in Targets(parentPath.Resolve(body, null)))
        {
            if (PolicyExpressions.EvaluateValue(policy.Get("propertyValuePathTemplate") ?? "", context, request, body, item) is { } value)
            {
                Write(item, sub, value);
                changed = true;
            }
        }

        return changed;
    }

    private static bool MoveProperties(PolicyTemplateInstance policy, JsonNode? body)
    {
        if (!BodyPath.TryParse(policy.Get("srcParentPath")!, out var srcParent) || !BodyPath.TryParse(policy.Get("dstParentPath")!, out var dstParent))
        {
            throw new PolicyException(policy.TemplateId, "srcParentPath and dstParentPath must be body paths");
        }

        var srcSub = SubOrNull(policy.Get("srcSubPath"));
        var dstSub = SubOrNull(policy.Get("dstSubPath"));
        if (srcParent.Resolve(body, null) is not JsonObject srcOwner)
        {
            return false;
        }

        var source = srcSub is null ? srcOwner : BodyPath.Walk(srcOwner, srcSub);
        if (source is null || dstParent.Resolve(body, null) is not JsonObject dstOwner)
        {
            return false;
        }

        var onlySubProperties = string.Equals(policy.Get("copyOnlySubProperties"), "true", StringComparison.OrdinalIgnoreCase);
        Detach(srcOwner, srcSub);
        if (onlySubProperties && source is JsonObject sourceObject)
        {
            var destination = dstSub is null ? dstOwner : BodyPath.Walk(dstOwner, dstSub) as JsonObject ?? Create(dstOwner, dstSub);
            foreach (var (k, v) in sourceObject.ToList())
            {
                destination[k] = v?.DeepClone();
            }
        }
        else
        {
            Write(dstOwner, dstSub ?? srcSub ?? [], source.DeepClone());
        }

        return true;
    }

    private static List<string>? SubOrNull(string? text) =>
        string.IsNullOrWhiteSpace(text) || text.Trim() == "null" || !BodyPath.TryParseSegments(text, out var s) || s.Count == 0 ? null : s;

    private static void Detach(JsonObject owner, List<string>? sub)
    {
        if (sub is null)
        {
            return;
        }

        if (BodyPath.Walk(owner, sub.Take(sub.Count - 1)) is JsonObject parent)
        {
            parent.Remove(sub[^1]);
        }
    }

    private static JsonObject Create(JsonObject owner, List<string> path)
    {
        var current = owner;
        foreach (var segment in path)
        {
            if (current[segment] is not JsonObject next)
            {
                next = new JsonObject();
                current[segment] = next;
            }

            current = next;
        }

        return current;
    }

    /// <summary>Sets <paramref name="value"/> at <paramref name="path"/> under <paramref name="root"/>, creating objects on the way.</summary>
    internal static void Write(JsonNode root, IReadOnlyList<string> path, JsonNode value)
    {
        if (path.Count == 0 || root is not JsonObject owner)
        {
            return;
        }

        var parent = Create(owner, path.Take(path.Count - 1).ToList());
        parent[path[^1]] = value.Parent is null ? value : value.DeepClone();
    }
}
