using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Causeway.Data;

/// <summary>Streams rows from the reader as OData JSON, one row at a time, flushing whenever a buffer's worth is pending.</summary>
internal static class ResultWriter
{
    private const int FlushThreshold = 16 * 1024;

    public static async Task WriteAsync(DbDataReader reader, PlanShape shape, Stream output, Uri serviceRoot, CancellationToken cancellationToken)
    {
        var has = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var root = serviceRoot.AbsoluteUri.EndsWith('/') ? serviceRoot.AbsoluteUri : serviceRoot.AbsoluteUri + "/";
        if (shape.IsSingleEntity && !has)
        {
            throw new DataRequestException(404, DataErrorCodes.NotFound, $"No {shape.Entity.Table.Name} with that key exists in '{shape.EntitySetName}'.");
        }

        await using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("@odata.context", root + "$metadata#" + shape.ContextFragment);
        if (shape.IsSingleEntity)
        {
            WriteProperties(writer, reader, shape.Entity);
            writer.WriteEndObject();
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (shape.CountOrdinal is { } countOrdinal)
        {
            writer.WriteNumber("@odata.count", has ? Convert.ToInt64(reader.GetValue(countOrdinal), CultureInfo.InvariantCulture) : 0);
        }

        writer.WriteStartArray("value");
        var written = 0;
        object?[]? last = null;
        while (has && written < shape.PageSize)
        {
            writer.WriteStartObject();
            WriteProperties(writer, reader, shape.Entity);
            writer.WriteEndObject();
            if (++written == shape.PageSize && shape.MayHaveNextPage)
            {
                last = shape.TokenSlots.Select(s => Values.Read(reader, s.Ordinal, s.Type)).ToArray();
            }

            if (writer.BytesPending > FlushThreshold)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            has = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        writer.WriteEndArray();
        if (has && last is not null)
        {
            var link = new StringBuilder(root).Append(Uri.EscapeDataString(shape.EntitySetName)).Append('?');
            foreach (var (name, value) in shape.NextLinkOptions)
            {
                link.Append(name).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
            }

            link.Append("$skiptoken=").Append(SkipToken.Encode(shape.TokenFingerprint, shape.TokenSlots, last));
            writer.WriteString("@odata.nextLink", link.ToString());
        }

        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteProperties(Utf8JsonWriter writer, DbDataReader reader, EntityShape shape)
    {
        if (shape.VersionOrdinal is { } v && !reader.IsDBNull(v))
        {
            writer.WriteString("@odata.etag", ETag(Convert.ToInt64(reader.GetValue(v), CultureInfo.InvariantCulture)));
        }

        foreach (var field in shape.Fields)
        {
            if (field.Visible)
            {
                writer.WritePropertyName(field.Column.Name);
                Values.Write(writer, Values.Read(reader, field.Ordinal, field.Column.Type));
            }
        }

        foreach (var expand in shape.Expands)
        {
            writer.WritePropertyName(expand.Name);
            if (reader.IsDBNull(expand.Ordinal))
            {
                WriteEmpty(writer, expand);
                continue;
            }

            using var document = JsonDocument.Parse(reader.GetString(expand.Ordinal));
            WriteNested(writer, document.RootElement, expand);
        }
    }

    internal static string ETag(long version) => "W/\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    private static void WriteEmpty(Utf8JsonWriter writer, ExpandSlot expand)
    {
        if (expand.IsCollection)
        {
            writer.WriteStartArray();
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static void WriteNested(Utf8JsonWriter writer, JsonElement element, ExpandSlot expand)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            // A database that returned nested JSON as text: parse it once more.
            using var inner = JsonDocument.Parse(element.GetString()!);
            WriteNested(writer, inner.RootElement, expand);
            return;
        }

        if (element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            WriteEmpty(writer, expand);
            return;
        }

        if (!expand.IsCollection)
        {
            WriteNestedRow(writer, element, expand.Shape);
            return;
        }

        writer.WriteStartArray();
        foreach (var row in element.EnumerateArray())
        {
            WriteNestedRow(writer, row, expand.Shape);
        }

        writer.WriteEndArray();
    }

    private static void WriteNestedRow(Utf8JsonWriter writer, JsonElement row, EntityShape shape)
    {
        writer.WriteStartObject();
        if (shape.VersionOrdinal is { } v && Cell(row, v) is { ValueKind: JsonValueKind.Number } version)
        {
            writer.WriteString("@odata.etag", ETag(version.GetInt64()));
        }

        foreach (var field in shape.Fields)
        {
            if (field.Visible)
            {
                writer.WritePropertyName(field.Column.Name);
                Values.Write(writer, Values.Read(Cell(row, field.Ordinal), field.Column.Type));
            }
        }

        foreach (var expand in shape.Expands)
        {
            writer.WritePropertyName(expand.Name);
            WriteNested(writer, Cell(row, expand.Ordinal), expand);
        }

        writer.WriteEndObject();
    }

    private static JsonElement Cell(JsonElement row, int ordinal) => row.ValueKind == JsonValueKind.Array
        ? row[ordinal]
        : row.TryGetProperty("c" + ordinal.ToString(CultureInfo.InvariantCulture), out var value) ? value : default;
}
