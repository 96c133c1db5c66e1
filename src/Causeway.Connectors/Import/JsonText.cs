using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>Lenient JSON parsing and JSON-path text for import errors.</summary>
internal static class JsonText
{
    // The platform reads packages with a lenient JSON reader: published packages carry trailing commas, comments
    // and raw tabs inside strings, and are accepted there. Missing commas or extra data are not.
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    public static JsonObject ParseObject(string text, string file)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(EscapeControlCharactersInStrings(text.TrimStart('\uFEFF')), NodeOptions, DocumentOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, position {e.BytePositionInLine + 1}" : "unknown position";
            throw new ConnectorImportException(file, "$", $"not valid JSON ({where})", e);
        }

        if (node is not JsonObject obj)
        {
            throw new ConnectorImportException(file, "$", "must be a JSON object");
        }

        // JsonObject materialises lazily; a duplicate key only surfaces when it does.
        try
        {
            _ = obj.Count;
            Touch(obj);
        }
        catch (ArgumentException e)
        {
            throw new ConnectorImportException(file, "$", "duplicate property name", e);
        }

        return obj;
    }

    private static void Touch(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, v) in o)
                {
                    Touch(v);
                }

                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    Touch(v);
                }

                break;
        }
    }

    /// <summary>Escapes raw control characters (tab, CR, LF) that appear inside string literals.</summary>
    internal static string EscapeControlCharactersInStrings(string text)
    {
        StringBuilder? sb = null;
        var inString = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\' && i + 1 < text.Length)
                {
                    sb?.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }

                if (c == '"')
                {
                    inString = false;
                }
                else if (c < 0x20)
                {
                    sb ??= new StringBuilder(text, 0, i, text.Length + 16);
                    sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    continue;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }

            sb?.Append(c);
        }

        return sb?.ToString() ?? text;
    }

    /// <summary>Appends a property to a JSON path: <c>$.a</c> or <c>$['/x']</c>.</summary>
    public static string Prop(string path, string name)
    {
        var simple = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or '$')
            && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '$');
        return simple ? $"{path}.{name}" : $"{path}['{name.Replace("'", "\\'", StringComparison.Ordinal)}']";
    }

    public static string Index(string path, int index) => $"{path}[{index.ToString(CultureInfo.InvariantCulture)}]";

    /// <summary>The string value of a node, or the JSON text of a non-string node, or null.</summary>
    public static string? AsText(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    public static string? GetString(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool IsTrue(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => string.Equals(v.GetValue<string>(), "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
