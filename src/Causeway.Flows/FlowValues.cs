using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Flows;

/// <summary>The types a desktop flow's input and output variables can have.</summary>
public enum VariableType
{
    /// <summary>Text.</summary>
    String,

    /// <summary>A double-precision number.</summary>
    Number,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A JSON array.</summary>
    List,

    /// <summary>A JSON object.</summary>
    Object,

    /// <summary>Text that is never written to the run log (passwords, tokens).</summary>
    Secret,
}

/// <summary>
/// A secret value inside a run. Its <see cref="ToString"/> is a mask, so that a secret that reaches a message by
/// accident shows as <c>***</c>; the runner also removes the plaintext from every error it logs.
/// </summary>
internal sealed class SecretString(string value)
{
    public string Value { get; } = value;

    public override string ToString() => "***";
}

/// <summary>
/// Values inside a run are plain CLR objects: <see cref="string"/>, <see cref="double"/>, <see cref="bool"/>,
/// <see cref="List{T}"/> of values, <see cref="Dictionary{TKey,TValue}"/> of values (ordinal keys),
/// <see cref="SecretString"/> or null.
/// </summary>
internal static class FlowValues
{
    public static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        SecretString s => JsonValue.Create(s.Value),
        double d => JsonValue.Create(d),
        int i => JsonValue.Create((double)i),
        long l => JsonValue.Create((double)l),
        bool b => JsonValue.Create(b),
        List<object?> list => new JsonArray([.. list.Select(ToJson)]),
        Dictionary<string, object?> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value)))),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>The text form used when a value is interpolated into a string.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "",
        string s => s,
        SecretString s => s.Value,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => ToJson(value)!.ToJsonString(),
    };

    public static string TypeName(object? value) => value switch
    {
        null => "null",
        string => "string",
        SecretString => "secret",
        double => "number",
        bool => "boolean",
        List<object?> => "list",
        Dictionary<string, object?> => "object",
        _ => value.GetType().Name,
    };

    public static bool Is(VariableType type, object? value) => type switch
    {
        VariableType.String => value is string,
        VariableType.Secret => value is string or SecretString,
        VariableType.Number => value is double,
        VariableType.Boolean => value is bool,
        VariableType.List => value is List<object?>,
        VariableType.Object => value is Dictionary<string, object?>,
        _ => false,
    };

    public static bool IsJson(VariableType type, JsonValueKind kind) => type switch
    {
        VariableType.String or VariableType.Secret => kind == JsonValueKind.String,
        VariableType.Number => kind == JsonValueKind.Number,
        VariableType.Boolean => kind is JsonValueKind.True or JsonValueKind.False,
        VariableType.List => kind == JsonValueKind.Array,
        VariableType.Object => kind == JsonValueKind.Object,
        _ => false,
    };

    public static bool ValueEquals(object? left, object? right)
    {
        left = Unwrap(left);
        right = Unwrap(right);
        return (left, right) switch
        {
            (null, null) => true,
            (null, _) or (_, null) => false,
            (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
            (double a, double b) => a.Equals(b),
            (bool a, bool b) => a == b,
            (List<object?>, List<object?>) or (Dictionary<string, object?>, Dictionary<string, object?>) =>
                ToJson(left)!.ToJsonString() == ToJson(right)!.ToJsonString(),
            _ => false,
        };
    }

    public static object? Unwrap(object? value) => value is SecretString s ? s.Value : value;
}
