using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace Causeway.Data;

/// <summary>Conversions between OData literals, JSON, provider values and the canonical CLR type of each <see cref="DataType"/>.</summary>
internal static class Values
{
    /// <summary>Converts a parsed OData literal to the canonical CLR type of <paramref name="type"/>.</summary>
    public static object? ToCanonical(object? value, DataType type)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return (type, value) switch
            {
                (DataType.String, string s) => s,
                (DataType.String, _) => Convert.ToString(value, CultureInfo.InvariantCulture),
                (DataType.Int32, int or short or byte or sbyte) => Convert.ToInt32(value, CultureInfo.InvariantCulture),
                (DataType.Int32 or DataType.Int64, long or int or short or byte or sbyte) => Convert.ToInt64(value, CultureInfo.InvariantCulture),
                (DataType.Int32 or DataType.Int64 or DataType.Decimal, decimal d) => d,
                (DataType.Int32 or DataType.Int64, double or float) => Convert.ToDouble(value, CultureInfo.InvariantCulture),
                (DataType.Decimal, double or float or long or int or short or byte) => Convert.ToDecimal(value, CultureInfo.InvariantCulture),
                (DataType.Double, _) when value is IConvertible && value is not string and not bool => Convert.ToDouble(value, CultureInfo.InvariantCulture),
                (DataType.Boolean, bool b) => b,
                (DataType.Guid, Guid g) => g,
                (DataType.DateTime, DateTimeOffset d) => d.UtcDateTime,
                (DataType.DateTime, DateTime d) => d,
                (DataType.DateTime, Microsoft.OData.Edm.Date d) => new DateTime(d.Year, d.Month, d.Day, 0, 0, 0, DateTimeKind.Utc),
                (DataType.DateTimeOffset, DateTimeOffset d) => d,
                (DataType.DateTimeOffset, DateTime d) => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
                (DataType.Date, Microsoft.OData.Edm.Date d) => new DateOnly(d.Year, d.Month, d.Day),
                (DataType.Date, DateOnly d) => d,
                (DataType.Date, DateTimeOffset d) => DateOnly.FromDateTime(d.UtcDateTime),
                (DataType.Binary, byte[] b) => b,
                _ => FromOwnType(value),
            };
        }
        catch (OverflowException)
        {
            // A literal out of the column's range still compares correctly as its own type.
            return FromOwnType(value);
        }
    }

    /// <summary>Canonical form of a literal whose target type is unknown.</summary>
    public static object FromOwnType(object value) => value switch
    {
        Microsoft.OData.Edm.Date d => new DateOnly(d.Year, d.Month, d.Day),
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        float f => (double)f,
        _ => value,
    };

    public static DataType TypeOfValue(object? value) => value switch
    {
        string => DataType.String,
        int or short or byte or sbyte => DataType.Int32,
        long => DataType.Int64,
        decimal => DataType.Decimal,
        double or float => DataType.Double,
        bool => DataType.Boolean,
        Guid => DataType.Guid,
        DateTimeOffset => DataType.DateTimeOffset,
        DateTime => DataType.DateTime,
        Microsoft.OData.Edm.Date or DateOnly => DataType.Date,
        byte[] => DataType.Binary,
        _ => DataType.String,
    };

    /// <summary>Reads a column as the canonical CLR value of <paramref name="type"/>, whatever the provider stored.</summary>
    public static object? Read(DbDataReader reader, int ordinal, DataType type)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        switch (type)
        {
            case DataType.String:
                return reader.GetString(ordinal);
            case DataType.Int32:
            case DataType.Int64:
                return Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
            case DataType.Decimal:
                return Convert.ToDecimal(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
            case DataType.Double:
                return Convert.ToDouble(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
            case DataType.Boolean:
                return reader.GetValue(ordinal) switch
                {
                    bool b => b,
                    var v => Convert.ToInt64(v, CultureInfo.InvariantCulture) != 0,
                };
            case DataType.Guid:
                return reader.GetValue(ordinal) switch
                {
                    Guid g => g,
                    string s => Guid.Parse(s),
                    byte[] b => new Guid(b),
                    var v => Guid.Parse(Convert.ToString(v, CultureInfo.InvariantCulture)!),
                };
            case DataType.DateTime:
                return reader.GetValue(ordinal) switch
                {
                    DateTime d => d,
                    DateTimeOffset d => d.UtcDateTime,
                    string s => ParseDateTime(s),
                    var v => Convert.ToDateTime(v, CultureInfo.InvariantCulture),
                };
            case DataType.DateTimeOffset:
                return reader.GetValue(ordinal) switch
                {
                    DateTimeOffset d => d,
                    DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
                    string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    var v => throw new InvalidCastException($"Cannot read {v.GetType().Name} as DateTimeOffset."),
                };
            case DataType.Date:
                return reader.GetValue(ordinal) switch
                {
                    DateOnly d => d,
                    DateTime d => DateOnly.FromDateTime(d),
                    string s => DateOnly.FromDateTime(ParseDateTime(s)),
                    var v => throw new InvalidCastException($"Cannot read {v.GetType().Name} as Date."),
                };
            case DataType.Binary:
                return reader.GetFieldValue<byte[]>(ordinal);
            default:
                return reader.GetValue(ordinal);
        }
    }

    /// <summary>Reads a value produced by the database's JSON functions (nested rows of an expand).</summary>
    public static object? Read(JsonElement element, DataType type)
    {
        if (element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        return type switch
        {
            DataType.String => element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText(),
            DataType.Int32 or DataType.Int64 => element.ValueKind == JsonValueKind.Number ? (element.TryGetInt64(out var l) ? l : (long)element.GetDouble()) : long.Parse(element.GetString()!, CultureInfo.InvariantCulture),
            DataType.Decimal => element.ValueKind == JsonValueKind.Number ? element.GetDecimal() : decimal.Parse(element.GetString()!, CultureInfo.InvariantCulture),
            DataType.Double => element.ValueKind == JsonValueKind.Number ? element.GetDouble() : double.Parse(element.GetString()!, CultureInfo.InvariantCulture),
            DataType.Boolean => element.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => element.GetDouble() != 0,
            },
            DataType.Guid => Guid.Parse(element.GetString()!),
            DataType.DateTime => ParseDateTime(element.GetString()!),
            DataType.DateTimeOffset => DateTimeOffset.Parse(element.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            DataType.Date => DateOnly.FromDateTime(ParseDateTime(element.GetString()!)),
            DataType.Binary => element.GetString() is { } s && s.StartsWith("\\x", StringComparison.Ordinal) ? Convert.FromHexString(s.AsSpan(2)) : element.GetBytesFromBase64(),
            _ => element.GetRawText(),
        };
    }

    /// <summary>Writes a canonical value as an OData JSON value of <paramref name="type"/>.</summary>
    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case decimal d:
                writer.WriteNumberValue(d);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case double d:
                // OData writes INF, -INF and NaN as strings.
                writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "INF" : "-INF");
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case Guid g:
                writer.WriteStringValue(g);
                break;
            case DateTime d:
                writer.WriteStringValue(FormatDateTime(new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc))));
                break;
            case DateTimeOffset d:
                writer.WriteStringValue(FormatDateTime(d));
                break;
            case DateOnly d:
                writer.WriteStringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case byte[] b:
                writer.WriteBase64StringValue(b);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    public static string FormatDateTime(DateTimeOffset value) => value.Offset == TimeSpan.Zero
        ? value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
        : value.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);

    /// <summary>Reads a JSON request value (write bodies, skip tokens) as the canonical CLR value of <paramref name="type"/>.</summary>
    public static object? FromJson(JsonElement element, DataType type)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return type switch
        {
            DataType.String => element.GetString(),
            DataType.Int32 => element.GetInt32(),
            DataType.Int64 => element.ValueKind == JsonValueKind.String ? long.Parse(element.GetString()!, CultureInfo.InvariantCulture) : element.GetInt64(),
            DataType.Decimal => element.ValueKind == JsonValueKind.String ? decimal.Parse(element.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture) : element.GetDecimal(),
            DataType.Double => element.ValueKind == JsonValueKind.String ? double.Parse(element.GetString()!, CultureInfo.InvariantCulture) : element.GetDouble(),
            DataType.Boolean => element.GetBoolean(),
            DataType.Guid => element.GetGuid(),
            DataType.DateTime => element.GetDateTimeOffset().UtcDateTime,
            DataType.DateTimeOffset => element.GetDateTimeOffset(),
            DataType.Date => DateOnly.ParseExact(element.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            DataType.Binary => element.GetBytesFromBase64(),
            _ => throw new FormatException(),
        };
    }

    private static DateTime ParseDateTime(string s) =>
        DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}
