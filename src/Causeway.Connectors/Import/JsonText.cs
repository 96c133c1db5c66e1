using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>Lenient JSON parsing and JSON-path text for import errors.</summary>
internal static class JsonText
{
    // The platform reads packages with a lenient JSON reader: published packages carry trailing commas, comments,
    // raw tabs inside strings, Unicode spaces and repeated keys, and are accepted there. Missing commas, unclosed
    // objects or extra data are not.
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>
    /// Parses a package file into a mutable tree. A repeated property name keeps the last value, as the platform's
    /// reader does, and adds a warning naming the path.
    /// </summary>
    public static JsonObject ParseObject(string text, string file, ICollection<string> warnings)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(EscapeControlCharactersInStrings(text.TrimStart('\uFEFF')), DocumentOptions);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, position {e.BytePositionInLine + 1}" : "unknown position";
            var cut = e.Message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            var reason = cut > 0 ? e.Message[..cut] : e.Message;
            throw new ConnectorImportException(file, string.IsNullOrEmpty(e.Path) ? "$" : e.Path, $"not valid JSON at {where}: {reason}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConnectorImportException(file, "$", "must be a JSON object");
            }

            return (JsonObject)ToNode(document.RootElement, "$", file, warnings)!;
        }
    }

    private static JsonNode? ToNode(JsonElement element, string path, string file, ICollection<string> warnings)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    var childPath = Prop(path, property.Name);
                    if (obj.ContainsKey(property.Name))
                    {
                        warnings.Add($"{file}: {childPath}: duplicate property; the last value is used");
                        obj.Remove(property.Name);
                    }

                    obj[property.Name] = ToNode(property.Value, childPath, file, warnings);
                }

                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    array.Add(ToNode(item, Index(path, i++), file, warnings));
                }

                return array;
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }

    /// <summary>Escapes raw control characters (tab, CR, LF) inside string literals and turns Unicode spaces between tokens into ' '.</summary>
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
            else if (c > 0x7F && char.IsWhiteSpace(c))
            {
                // Unicode spaces between tokens (an em space in one certified package) read as whitespace there too.
                sb ??= new StringBuilder(text, 0, i, text.Length + 16);
                sb.Append(' ');
                continue;
            }

            sb?.Append(c);
        }

        return sb?.ToString() ?? text;
    }

    /// <summary>Appends a property to a JSON path: <c>$.a</c> or <c>$['/x']</c>.</summary>
    public static string Prop(string path, string name)
    {
        var simple = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or '$')
            && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '$');
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
