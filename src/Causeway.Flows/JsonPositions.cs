using System.Text;
using System.Text.Json;

namespace Causeway.Flows;

/// <summary>A line and column (both 1-based; the column counts UTF-8 bytes) in a JSON document.</summary>
public readonly record struct JsonPosition(int Line, int Column);

/// <summary>
/// JSON paths (<c>$.actions[2].timeoutSeconds</c>) and where each value starts in the text, so that a validation error
/// found on the parsed tree can still point at a line and column of what the user wrote.
/// </summary>
internal sealed class JsonPositions
{
    private readonly Dictionary<string, JsonPosition> _positions = new(StringComparer.Ordinal);

    private JsonPositions()
    {
    }

    public static string Property(string parent, string name)
    {
        var simple = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        return simple ? parent + "." + name : parent + "['" + name.Replace("'", "\\'", StringComparison.Ordinal) + "']";
    }

    public static string Index(string parent, int index) => parent + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";

    /// <summary>Maps every value of a well-formed document to its position. Call only after the document parsed.</summary>
    public static JsonPositions Map(byte[] utf8)
    {
        var lineStarts = new List<long> { 0 };
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                lineStarts.Add(i + 1);
            }
        }

        var map = new JsonPositions();
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var stack = new Stack<Frame>();
        string? propertyPath = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    propertyPath = Property(stack.Peek().Path, reader.GetString()!);
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    stack.Pop();
                    break;
                default:
                    var path = stack.Count == 0 ? "$" : stack.Peek().IsArray ? Index(stack.Peek().Path, stack.Peek().Count++) : propertyPath!;
                    map._positions[path] = ToPosition(lineStarts, reader.TokenStartIndex);
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        stack.Push(new Frame(path, reader.TokenType == JsonTokenType.StartArray));
                    }

                    break;
            }
        }

        return map;
    }

    /// <summary>The position of the value at <paramref name="path"/>, or of its nearest ancestor that has one.</summary>
    public JsonPosition? Find(string path)
    {
        while (true)
        {
            if (_positions.TryGetValue(path, out var position))
            {
                return position;
            }

            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            if (cut <= 0)
            {
                return null;
            }

            path = path[..cut];
        }
    }

    /// <summary>The position of a byte offset (line and UTF-8 column, 1-based).</summary>
    public static JsonPosition FromOffset(string text, long byteOffset)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var line = 1;
        long lineStart = 0;
        for (var i = 0; i < byteOffset && i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new JsonPosition(line, (int)(byteOffset - lineStart) + 1);
    }

    private static JsonPosition ToPosition(List<long> lineStarts, long offset)
    {
        var index = lineStarts.BinarySearch(offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return new JsonPosition(index + 1, (int)(offset - lineStarts[index]) + 1);
    }

    private sealed class Frame(string path, bool isArray)
    {
        public string Path { get; } = path;

        public bool IsArray { get; } = isArray;

        public int Count { get; set; }
    }
}
