using System.Globalization;
using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Causeway.Network;

/// <summary>
/// A parsed file as a small tree that remembers where every value came from, so that schema and reference errors can
/// point at a line and column whatever the input format was.
/// </summary>
internal sealed class SourceNode
{
    private SourceNode(SourceNodeKind kind, SourcePosition position)
    {
        Kind = kind;
        Position = position;
    }

    public SourceNodeKind Kind { get; }

    public SourcePosition Position { get; }

    /// <summary>The text of a scalar; null for JSON null or YAML <c>~</c>/empty.</summary>
    public string? Scalar { get; private init; }

    /// <summary>True for a quoted scalar (a string, never a number or boolean).</summary>
    public bool Quoted { get; private init; }

    public IReadOnlyList<KeyValuePair<SourceNode, SourceNode>> Entries { get; private init; } = [];

    public IReadOnlyList<SourceNode> Items { get; private init; } = [];

    public static SourceNode Parse(string text, DocumentFormat format, string file) =>
        format == DocumentFormat.Json ? ParseJson(text, file) : ParseYaml(text, file);

    public static DocumentFormat FormatOf(string path) =>
        Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase) ? DocumentFormat.Json : DocumentFormat.Yaml;

    private static SourceNode ParseYaml(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var message = e.InnerException is YamlException inner ? inner.Message : e.Message;
            throw new NetworkFileException($"not valid YAML: {message}", new SourcePosition(file, (int)e.Start.Line, (int)e.Start.Column), e);
        }

        if (stream.Documents.Count == 0)
        {
            throw new NetworkFileException("the file is empty", new SourcePosition(file, 1, 1));
        }

        return FromYaml(stream.Documents[0].RootNode, file);
    }

    private static SourceNode FromYaml(YamlNode node, string file)
    {
        var position = new SourcePosition(file, (int)node.Start.Line, (int)node.Start.Column);
        switch (node)
        {
            case YamlMappingNode map:
                return new SourceNode(SourceNodeKind.Map, position)
                {
                    Entries = map.Children.Select(c => new KeyValuePair<SourceNode, SourceNode>(FromYaml(c.Key, file), FromYaml(c.Value, file))).ToArray(),
                };
            case YamlSequenceNode seq:
                return new SourceNode(SourceNodeKind.Sequence, position) { Items = seq.Children.Select(c => FromYaml(c, file)).ToArray() };
            case YamlScalarNode scalar:
                var plain = scalar.Style is ScalarStyle.Plain or ScalarStyle.Any;
                var isNull = plain && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");
                return new SourceNode(SourceNodeKind.Scalar, position) { Scalar = isNull ? null : scalar.Value, Quoted = !plain };
            default:
                throw new NetworkFileException("YAML aliases and anchors are not supported", position);
        }
    }

    private static SourceNode ParseJson(string text, string file)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new LineIndex(bytes);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read())
            {
                throw new NetworkFileException("the file is empty", new SourcePosition(file, 1, 1));
            }

            var root = ReadJson(ref reader, lines, file);
            if (reader.Read())
            {
                throw new NetworkFileException("unexpected content after the JSON document", lines.At(file, reader.TokenStartIndex));
            }

            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            throw new NetworkFileException($"not valid JSON: {FirstSentence(e.Message)}", new SourcePosition(file, line, column), e);
        }
    }

    private static SourceNode ReadJson(ref Utf8JsonReader reader, LineIndex lines, string file)
    {
        var position = lines.At(file, reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var entries = new List<KeyValuePair<SourceNode, SourceNode>>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = new SourceNode(SourceNodeKind.Scalar, lines.At(file, reader.TokenStartIndex)) { Scalar = reader.GetString(), Quoted = true };
                    reader.Read();
                    entries.Add(new(key, ReadJson(ref reader, lines, file)));
                }

                return new SourceNode(SourceNodeKind.Map, position) { Entries = entries };
            case JsonTokenType.StartArray:
                var items = new List<SourceNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadJson(ref reader, lines, file));
                }

                return new SourceNode(SourceNodeKind.Sequence, position) { Items = items };
            case JsonTokenType.String:
                return new SourceNode(SourceNodeKind.Scalar, position) { Scalar = reader.GetString(), Quoted = true };
            case JsonTokenType.Null:
                return new SourceNode(SourceNodeKind.Scalar, position);
            case JsonTokenType.True:
            case JsonTokenType.False:
            case JsonTokenType.Number:
                return new SourceNode(SourceNodeKind.Scalar, position) { Scalar = Encoding.UTF8.GetString(reader.ValueSpan) };
            default:
                throw new NetworkFileException($"unexpected JSON token {reader.TokenType}", position);
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    /// <summary>Utf8JsonReader gives byte offsets only; this maps them back to line and column.</summary>
    private sealed class LineIndex
    {
        private readonly List<long> _starts = [0];

        public LineIndex(byte[] bytes)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                {
                    _starts.Add(i + 1);
                }
            }
        }

        public SourcePosition At(string file, long offset)
        {
            var index = _starts.BinarySearch(offset);
            var line = index >= 0 ? index : ~index - 1;
            return new SourcePosition(file, line + 1, (int)(offset - _starts[line]) + 1);
        }
    }
}

internal enum SourceNodeKind
{
    Map,
    Sequence,
    Scalar,
}

/// <summary>Reads a <see cref="SourceNode"/> map against a fixed set of properties: the schema check of both file kinds.</summary>
internal readonly struct MapReader
{
    private readonly SourceNode _node;
    private readonly string _what;

    public MapReader(SourceNode node, string what, params string[] allowed)
    {
        if (node.Kind != SourceNodeKind.Map)
        {
            throw new NetworkFileException($"{what} must be a mapping of properties", node.Position);
        }

        foreach (var (key, _) in node.Entries)
        {
            if (!allowed.Contains(key.Scalar, StringComparer.Ordinal))
            {
                throw new NetworkFileException(
                    $"unknown property '{key.Scalar}' in {what} (expected one of: {string.Join(", ", allowed)})", key.Position);
            }
        }

        _node = node;
        _what = what;
    }

    public SourcePosition Position => _node.Position;

    public SourceNode? Get(string name)
    {
        foreach (var (key, value) in _node.Entries)
        {
            if (key.Scalar == name)
            {
                return value;
            }
        }

        return null;
    }

    public string RequiredString(string name) =>
        OptionalString(name) ?? throw new NetworkFileException($"{_what} needs '{name}'", _node.Position);

    public string? OptionalString(string name)
    {
        var value = Get(name);
        if (value is null || (value.Kind == SourceNodeKind.Scalar && value.Scalar is null))
        {
            return null;
        }

        if (value.Kind != SourceNodeKind.Scalar || string.IsNullOrWhiteSpace(value.Scalar))
        {
            throw new NetworkFileException($"'{name}' of {_what} must be a non-empty string", value.Position);
        }

        return value.Scalar.Trim();
    }

    public bool? OptionalBool(string name)
    {
        var value = Get(name);
        if (value is null || value.Scalar is null && value.Kind == SourceNodeKind.Scalar)
        {
            return null;
        }

        return value.Kind == SourceNodeKind.Scalar && !value.Quoted && value.Scalar?.ToLowerInvariant() is "true" or "false" or "yes" or "no"
            ? value.Scalar.ToLowerInvariant() is "true" or "yes"
            : throw new NetworkFileException($"'{name}' of {_what} must be true or false", value.Position);
    }

    public long? OptionalInteger(string name, long min, long max)
    {
        var value = Get(name);
        if (value is null || value.Scalar is null && value.Kind == SourceNodeKind.Scalar)
        {
            return null;
        }

        if (value.Kind != SourceNodeKind.Scalar || value.Quoted
            || !long.TryParse(value.Scalar, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new NetworkFileException($"'{name}' of {_what} must be a whole number", value.Position);
        }

        return number < min || number > max
            ? throw new NetworkFileException($"'{name}' of {_what} must be between {min} and {max}, not {number}", value.Position)
            : number;
    }

    public IReadOnlyList<SourceNode> List(string name, bool required = false)
    {
        var value = Get(name);
        if (value is null || value.Kind == SourceNodeKind.Scalar && value.Scalar is null)
        {
            return required ? throw new NetworkFileException($"{_what} needs '{name}'", _node.Position) : [];
        }

        return value.Kind == SourceNodeKind.Sequence
            ? value.Items
            : throw new NetworkFileException($"'{name}' of {_what} must be a list", value.Position);
    }

    public IReadOnlyList<(string Value, SourcePosition Position)> StringList(string name, bool required = false)
    {
        var what = _what;
        return List(name, required).Select(item => item.Kind == SourceNodeKind.Scalar && !string.IsNullOrWhiteSpace(item.Scalar)
            ? (item.Scalar.Trim(), item.Position)
            : throw new NetworkFileException($"every item of '{name}' in {what} must be a non-empty string", item.Position)).ToArray();
    }

    public T Enum<T>(string name, T fallback)
        where T : struct, Enum
    {
        var text = OptionalString(name);
        if (text is null)
        {
            return fallback;
        }

        return System.Enum.TryParse<T>(text, ignoreCase: true, out var parsed) && System.Enum.IsDefined(parsed) && !char.IsDigit(text[0])
            ? parsed
            : throw new NetworkFileException(
                $"'{name}' of {_what} must be one of {string.Join(", ", System.Enum.GetNames<T>())}, not '{text}'", Get(name)!.Position);
    }
}
