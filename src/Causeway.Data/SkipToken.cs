using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Causeway.Data;

/// <summary>
/// The opaque $skiptoken: base64url of a JSON array <c>[fingerprint, v1, v2, ...]</c> holding the last row's order-by
/// values then its key. The fingerprint ties a token to the query that made it; a token that does not decode, or was
/// made for another query, is a clean 400. Editing the values only moves the page boundary: they become parameters.
/// </summary>
internal static class SkipToken
{
    public static string Encode(string fingerprint, IReadOnlyList<OrderSlot> slots, IReadOnlyList<object?> values)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(fingerprint);
            for (var i = 0; i < slots.Count; i++)
            {
                switch (values[i])
                {
                    // Decimals and 64-bit integers travel as strings so no JSON reader rounds them.
                    case decimal d:
                        writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case long l:
                        writer.WriteStringValue(l.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case double d:
                        writer.WriteStringValue(d.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case DateTime d:
                        writer.WriteStringValue(DateTime.SpecifyKind(d, DateTimeKind.Utc));
                        break;
                    case int i32:
                        writer.WriteStringValue(i32.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    default:
                        Values.Write(writer, values[i]);
                        break;
                }
            }

            writer.WriteEndArray();
        }

        return Base64Url.EncodeToString(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    public static object?[] Decode(string token, string fingerprint, IReadOnlyList<OrderSlot> slots)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(token);
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() != slots.Count + 1 || root[0].GetString() != fingerprint)
            {
                throw Invalid(null);
            }

            var values = new object?[slots.Count];
            for (var i = 0; i < slots.Count; i++)
            {
                var type = slots[i].Type;
                var element = root[i + 1];
                values[i] = type switch
                {
                    DataType.Int32 or DataType.Int64 when element.ValueKind == JsonValueKind.String => long.Parse(element.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
                    DataType.Int32 => (long)element.GetInt32(),
                    _ => Values.FromJson(element, type),
                };
            }

            return values;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or OverflowException or ArgumentException or IndexOutOfRangeException)
        {
            throw Invalid(ex);
        }
    }

    /// <summary>FNV-1a of the parts that decide the order of rows; not a secret, just a mismatch detector.</summary>
    public static string Fingerprint(params string?[] parts)
    {
        var hash = 2166136261u;
        foreach (var part in parts)
        {
            foreach (var b in Encoding.UTF8.GetBytes(part ?? string.Empty))
            {
                hash = (hash ^ b) * 16777619u;
            }

            hash = (hash ^ 0xFF) * 16777619u;
        }

        return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static DataRequestException Invalid(Exception? inner) =>
        DataRequestException.BadRequest("The $skiptoken is not valid for this query.", inner);
}
