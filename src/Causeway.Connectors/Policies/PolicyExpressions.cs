using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Causeway.Connectors;

/// <summary>
/// The expression forms that occur in the template parameters of published connectors:
/// <list type="bullet">
/// <item><c>@connectionParameters('name')</c> and <c>@connectionParameters('name', 'default')</c> (any case);</item>
/// <item><c>@headers('name')</c> and <c>@queryParameters('name')</c>, read from the outgoing request;</item>
/// <item>body paths <c>@body()</c>, <c>@body().a.b</c>, <c>@body()['@odata.etag']</c>, <c>@item().x</c>;</item>
/// <item><c>{@body().x}</c> placeholders inside a value template (setproperty);</item>
/// <item><c>@Request.OriginalHTTPMethod</c>.</item>
/// </list>
/// The first three kinds are substituted inline anywhere in a text template.
/// </summary>
internal static partial class PolicyExpressions
{
    [GeneratedRegex(@"@(?<fn>connectionParameters|headers|queryParameters)\(\s*'(?<name>[^']*)'\s*(?:,\s*'(?<def>[^']*)'\s*)?\)", RegexOptions.IgnoreCase)]
    private static partial Regex InlineFunction();

    [GeneratedRegex(@"\{(?<path>@(?:body|item)\(\)[^{}]*)\}", RegexOptions.IgnoreCase)]
    private static partial Regex BodyPlaceholder();

    // A connector's own templates are few and used on every call: each is split into literal text and inline functions
    // once. Texts made at call time (holding path values or body values) are never kept; the bound is a safety net.
    private const int MaxParsedTemplates = 4096;
    private static readonly ConcurrentDictionary<string, TemplatePart[]> Parsed = new(StringComparer.Ordinal);

    /// <summary>Literal text (<see cref="Function"/> null) or one inline function with its name and default.</summary>
    private readonly record struct TemplatePart(string Text, string? Function, string? Default);

    /// <summary>Substitutes every inline function in <paramref name="template"/>; a missing value without default becomes "".</summary>
    /// <param name="remember">
    /// True for a template as the connector declares it, whose parsed form is kept for the next call; false for text
    /// made at call time, which must not be kept.
    /// </param>
    public static string Evaluate(string template, PolicyContext context, ApimRequest request, bool remember = false)
    {
        if (!template.Contains('@', StringComparison.Ordinal))
        {
            return template;
        }

        if (!Parsed.TryGetValue(template, out var parts))
        {
            parts = Parse(template);
            if (remember && Parsed.Count < MaxParsedTemplates)
            {
                Parsed.TryAdd(template, parts);
            }
        }

        if (parts.Length == 1)
        {
            return Value(parts[0], context, request);
        }

        var text = new StringBuilder();
        foreach (var part in parts)
        {
            text.Append(Value(part, context, request));
        }

        return text.ToString();
    }

    private static string Value(TemplatePart part, PolicyContext context, ApimRequest request) => part.Function switch
    {
        null => part.Text,
        "connectionparameters" => context.ConnectionValue(part.Text),
        "headers" => context.Header(request, part.Text),
        _ => request.Query[part.Text],
    } ?? part.Default ?? "";

    private static TemplatePart[] Parse(string template)
    {
        var parts = new List<TemplatePart>();
        var at = 0;
        foreach (Match m in InlineFunction().Matches(template))
        {
            if (m.Index > at)
            {
                parts.Add(new(template[at..m.Index], null, null));
            }

            parts.Add(new(m.Groups["name"].Value, m.Groups["fn"].Value.ToLowerInvariant(), m.Groups["def"].Success ? m.Groups["def"].Value : null));
            at = m.Index + m.Length;
        }

        if (at < template.Length || parts.Count == 0)
        {
            parts.Add(new(template[at..], null, null));
        }

        return [.. parts];
    }

    /// <summary>The inline functions a template uses, as (lower-case function, name) pairs.</summary>
    public static IEnumerable<(string Function, string Name)> References(string template) =>
        InlineFunction().Matches(template).Select(m => (m.Groups["fn"].Value.ToLowerInvariant(), m.Groups["name"].Value));

    /// <summary>
    /// Evaluates a setproperty value template: <c>{@body().x}</c> placeholders become the referenced value (strings
    /// as they are, other values as compact JSON); a template that is one whole body path copies the value. A result
    /// that reads as a JSON array or object becomes JSON, anything else a string. Null when a referenced value is absent.
    /// </summary>
    public static JsonNode? EvaluateValue(string template, PolicyContext context, ApimRequest? request, JsonNode? body, JsonNode? item)
    {
        var trimmed = template.Trim();
        if (trimmed.StartsWith('@') && BodyPath.TryParse(trimmed, out var whole))
        {
            return whole.Resolve(body, item)?.DeepClone();
        }

        var missing = false;
        var text = BodyPlaceholder().Replace(template, m =>
        {
            if (!BodyPath.TryParse(m.Groups["path"].Value, out var path) || path.Resolve(body, item) is not { } node)
            {
                missing = true;
                return "";
            }

            return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
        });
        if (missing)
        {
            return null;
        }

        if (request is not null)
        {
            text = Evaluate(text, context, request);
        }

        var t = text.Trim();
        if (t.Length > 1 && ((t[0] == '[' && t[^1] == ']') || (t[0] == '{' && t[^1] == '}')))
        {
            try
            {
                return JsonNode.Parse(t);
            }
            catch (JsonException)
            {
                // Not JSON after all: the value is the text.
            }
        }

        return JsonValue.Create(text);
    }
}

/// <summary>A parsed body path: <c>@body().a['b'].c</c> or <c>@item().x</c>.</summary>
internal sealed record BodyPath(bool FromItem, IReadOnlyList<string> Segments)
{
    public static bool TryParse(string text, out BodyPath path)
    {
        path = new BodyPath(false, []);
        var s = text.Trim();
        if (s.StartsWith('@'))
        {
            s = s[1..];
        }

        bool fromItem;
        if (s.StartsWith("body()", StringComparison.OrdinalIgnoreCase))
        {
            fromItem = false;
        }
        else if (s.StartsWith("item()", StringComparison.OrdinalIgnoreCase))
        {
            fromItem = true;
        }
        else
        {
            return false;
        }

        if (!TryParseSegments(s[6..], out var segments))
        {
            return false;
        }

        path = new BodyPath(fromItem, segments);
        return true;
    }

    /// <summary>Parses <c>.a['b'].c</c> (or a bare <c>a</c> / <c>['b']</c> as used by sub-path parameters).</summary>
    public static bool TryParseSegments(string text, out List<string> segments)
    {
        segments = [];
        var i = 0;
        var s = text.Trim();
        if (s.Length > 0 && s[0] != '.' && s[0] != '[')
        {
            s = "." + s;
        }

        while (i < s.Length)
        {
            if (s[i] == '.')
            {
                var start = ++i;
                while (i < s.Length && s[i] != '.' && s[i] != '[')
                {
                    i++;
                }

                if (i == start)
                {
                    return false;
                }

                segments.Add(s[start..i]);
            }
            else if (s[i] == '[')
            {
                var close = s.IndexOf(']', i);
                if (close < 0)
                {
                    return false;
                }

                var inner = s[(i + 1)..close].Trim();
                if (inner.Length >= 2 && inner[0] is '\'' or '"' && inner[^1] == inner[0])
                {
                    inner = inner[1..^1];
                }

                segments.Add(inner);
                i = close + 1;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    public JsonNode? Resolve(JsonNode? body, JsonNode? item) => Walk(FromItem ? item : body, Segments);

    public static JsonNode? Walk(JsonNode? node, IEnumerable<string> segments)
    {
        foreach (var segment in segments)
        {
            node = node switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, out var index) && index >= 0 && index < a.Count => a[index],
                _ => null,
            };
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(FromItem ? "@item()" : "@body()");
        foreach (var s in Segments)
        {
            sb.Append("['").Append(s).Append("']");
        }

        return sb.ToString();
    }
}
