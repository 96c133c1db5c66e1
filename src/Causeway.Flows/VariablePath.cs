using System.Globalization;

namespace Causeway.Flows;

/// <summary>
/// A reference to a variable or a part of it: <c>name</c>, <c>name.property</c>, <c>name[0]</c>, <c>name.rows[2].id</c>.
/// </summary>
internal sealed record VariablePath(string Root, IReadOnlyList<object> Segments)
{
    public static bool IsName(string text) =>
        text.Length is > 0 and <= 64 && (char.IsAsciiLetter(text[0]) || text[0] == '_')
        && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Parses a path; returns null and an error message when it is malformed.</summary>
    public static VariablePath? TryParse(string text, out string? error)
    {
        error = null;
        var i = 0;
        var root = ReadName(text, ref i);
        if (root is null)
        {
            error = $"'{text}' is not a variable reference (expected a name such as 'count' or 'row.id')";
            return null;
        }

        var segments = new List<object>();
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                i++;
                var name = ReadName(text, ref i);
                if (name is null)
                {
                    error = $"'{text}': a property name must follow '.'";
                    return null;
                }

                segments.Add(name);
            }
            else if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0 || !int.TryParse(text.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    error = $"'{text}': '[' must hold a non-negative whole number and be closed by ']'";
                    return null;
                }

                segments.Add(index);
                i = close + 1;
            }
            else
            {
                error = $"'{text}': unexpected '{text[i]}' in a variable reference";
                return null;
            }
        }

        return new VariablePath(root, segments);
    }

    /// <summary>Reads the value at this path; throws <see cref="FlowActionException"/> when a part is missing.</summary>
    public object? Resolve(IReadOnlyDictionary<string, object?> variables)
    {
        if (!variables.TryGetValue(Root, out var value))
        {
            throw new FlowActionException($"variable '{Root}' has no value");
        }

        foreach (var segment in Segments)
        {
            value = (segment, FlowValues.Unwrap(value)) switch
            {
                (string name, Dictionary<string, object?> map) when map.TryGetValue(name, out var v) => v,
                (int index, List<object?> list) when index < list.Count => list[index],
                (int index, string s) when index < s.Length => s[index].ToString(),
                _ => throw new FlowActionException($"'{this}' does not exist (no {(segment is int ? "item" : "property")} '{segment}' in a {FlowValues.TypeName(value)})"),
            };
        }

        return value;
    }

    public override string ToString() =>
        Root + string.Concat(Segments.Select(s => s is int i ? "[" + i.ToString(CultureInfo.InvariantCulture) + "]" : "." + s));

    private static string? ReadName(string text, ref int i)
    {
        var start = i;
        while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
        {
            i++;
        }

        var name = text[start..i];
        return IsName(name) ? name : null;
    }
}

/// <summary>An action failed; the message is shown in the run log (after secrets are removed).</summary>
internal sealed class FlowActionException(string message, Exception? innerException = null) : Exception(message, innerException);
