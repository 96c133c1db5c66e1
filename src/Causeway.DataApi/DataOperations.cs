using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Data;
using Microsoft.AspNetCore.Http;

namespace Causeway.DataApi;

/// <summary>
/// The row operations of the Data API, each on one <see cref="DataRequest"/>: Dataverse's headers (Prefer, If-Match,
/// If-None-Match, OData-EntityId, Preference-Applied) around the engine's reads and writes.
/// </summary>
internal static class DataOperations
{
    private const string JsonContentType = "application/json; odata.metadata=minimal";

    public static async Task QueryAsync(DataRequest request, string entitySet, string? key)
    {
        var context = request.Context;
        var prefer = Prefer.Parse(context.Request.Headers["Prefer"]);
        var limits = new QueryLimits { AllowSkip = false, PageSize = prefer.MaxPageSize ?? DataApiHandler.MaxPageSize, MaxPageSize = DataApiHandler.MaxPageSize };
        var plan = request.Snapshot.Engine.ParseQuery(entitySet, key, QueryOptions(context.Request), limits);
        if (prefer.MaxPageSize is { } size && key is null)
        {
            context.Response.Headers["Preference-Applied"] = $"odata.maxpagesize={size.ToString(CultureInfo.InvariantCulture)}";
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = JsonContentType;
        await WithConnectionAsync(request, connection =>
            request.Snapshot.Engine.ExecuteQueryAsync(connection, plan, context.Response.Body, request.ServiceRoot, context.RequestAborted));
    }

    public static async Task CreateAsync(DataRequest request, string entitySet)
    {
        var table = TableOf(request, entitySet);
        var body = await ReadBodyAsync(request.Context.Request);
        if (body[table.PrimaryKey] is null)
        {
            body[table.PrimaryKey] = Guid.NewGuid();
        }

        CheckValues(table, body, creating: true);
        var element = JsonSerializer.SerializeToElement(body);
        var result = await WithConnectionAsync(request, connection =>
            request.Snapshot.Engine.InsertAsync(connection, entitySet, element, request.Context.RequestAborted));
        await RespondWrittenAsync(request, entitySet, result, created: true);
    }

    public static async Task UpdateAsync(DataRequest request, string entitySet, string key)
    {
        var table = TableOf(request, entitySet);
        var headers = request.Context.Request.Headers;
        var body = await ReadBodyAsync(request.Context.Request);
        var ifMatch = headers.IfMatch.ToString();
        var ifNoneMatch = headers.IfNoneMatch.ToString();
        var engine = request.Snapshot.Engine;
        var ct = request.Context.RequestAborted;
        WriteResult result;
        bool created = false;
        if (ifNoneMatch == "*")
        {
            // Create only: an existing row is a failed precondition, not a conflict.
            CheckValues(table, body, creating: true);
            var element = JsonSerializer.SerializeToElement(body);
            try
            {
                result = await WithConnectionAsync(request, c => engine.ExecuteWriteAsync(c, engine.BuildWrite(WriteKind.Insert, entitySet, key, element), ct));
                created = true;
            }
            catch (DataRequestException e) when (e.StatusCode == 409)
            {
                throw new DataRequestException(412, DataErrorCodes.DuplicateRecord, $"A row with that key already exists in '{entitySet}' (If-None-Match: *).");
            }
        }
        else if (ifMatch.Length > 0)
        {
            // Update only: '*' needs the row to exist, a version also needs it unchanged.
            CheckValues(table, body, creating: false);
            var element = JsonSerializer.SerializeToElement(body);
            var version = ifMatch == "*" ? (long?)null : ParseETag(ifMatch);
            result = await WithConnectionAsync(request, c => engine.UpdateAsync(c, entitySet, key, element, version, ct));
        }
        else
        {
            // Upsert. The engine's upsert wants every required property even when the row exists, so update first and
            // create only when no row has the key (Dataverse updates partially).
            CheckValues(table, body, creating: false);
            var element = JsonSerializer.SerializeToElement(body);
            try
            {
                result = await WithConnectionAsync(request, c => engine.UpdateAsync(c, entitySet, key, element, null, ct));
            }
            catch (DataRequestException e) when (e.StatusCode == 404 && e.Code == DataErrorCodes.NotFound)
            {
                CheckValues(table, body, creating: true);
                result = await WithConnectionAsync(request, c => engine.ExecuteWriteAsync(c, engine.BuildWrite(WriteKind.Insert, entitySet, key, element), ct));
                created = true;
            }
        }

        await RespondWrittenAsync(request, entitySet, result, created);
    }

    public static async Task DeleteAsync(DataRequest request, string entitySet, string key)
    {
        _ = TableOf(request, entitySet);
        var ifMatch = request.Context.Request.Headers.IfMatch.ToString();
        var version = ifMatch.Length == 0 || ifMatch == "*" ? (long?)null : ParseETag(ifMatch);
        await WithConnectionAsync(request, c => request.Snapshot.Engine.DeleteAsync(c, entitySet, key, version, request.Context.RequestAborted));
        request.Context.Response.StatusCode = 204;
    }

    /// <summary>Query options by name (only <c>$</c> ones reach the engine); a repeated option is an error.</summary>
    internal static Dictionary<string, string> QueryOptions(HttpRequest request)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in request.Query)
        {
            if (!name.StartsWith('$'))
            {
                continue;
            }

            if (values.Count != 1)
            {
                throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The query option '{name}' is given more than once.");
            }

            options[name] = values[0] ?? "";
        }

        return options;
    }

    private static async Task RespondWrittenAsync(DataRequest request, string entitySet, WriteResult result, bool created)
    {
        var context = request.Context;
        var location = $"{request.ServiceRoot.AbsoluteUri}{entitySet}({result.EntityId})";
        context.Response.Headers["OData-EntityId"] = location;
        if (result.ETag is { } etag)
        {
            context.Response.Headers.ETag = etag;
        }

        if (!Prefer.Parse(context.Request.Headers["Prefer"]).ReturnRepresentation)
        {
            context.Response.StatusCode = 204;
            return;
        }

        // The row as stored, shaped by $select/$expand like a GET of its key.
        var options = QueryOptions(context.Request).Where(o => o.Key is "$select" or "$expand").ToDictionary(o => o.Key, o => o.Value, StringComparer.Ordinal);
        var plan = request.Snapshot.Engine.ParseQuery(entitySet, result.EntityId, options);
        using var buffer = new MemoryStream();
        await WithConnectionAsync(request, c => request.Snapshot.Engine.ExecuteQueryAsync(c, plan, buffer, request.ServiceRoot, context.RequestAborted));
        context.Response.StatusCode = created ? 201 : 200;
        context.Response.Headers["Preference-Applied"] = "return=representation";
        if (created)
        {
            context.Response.Headers.Location = location;
        }

        context.Response.ContentType = JsonContentType;
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }

    private static async Task WithConnectionAsync(DataRequest request, Func<DbConnection, Task> action)
    {
        if (request.Shared is { } shared)
        {
            await action(shared);
            return;
        }

        await using var connection = await request.Database.OpenAsync(request.Context.RequestAborted);
        await action(connection);
    }

    private static async Task<T> WithConnectionAsync<T>(DataRequest request, Func<DbConnection, Task<T>> action)
    {
        if (request.Shared is { } shared)
        {
            return await action(shared);
        }

        await using var connection = await request.Database.OpenAsync(request.Context.RequestAborted);
        return await action(connection);
    }

    private static TableDefinition TableOf(DataRequest request, string entitySet) =>
        request.Snapshot.Tables.FirstOrDefault(t => t.EntitySetName == entitySet)
        ?? throw new DataRequestException(404, DataErrorCodes.NotFound, $"Resource not found for the segment '{TableRules.Shorten(entitySet)}'.");

    private static async Task<JsonObject> ReadBodyAsync(HttpRequest request)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "The request body is not valid JSON.");
        }

        return node as JsonObject ?? throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "The request body must be a JSON object.");
    }

    /// <summary>What the engine cannot know from its schema: choice options and required lookups.</summary>
    private static void CheckValues(TableDefinition table, JsonObject body, bool creating)
    {
        foreach (var column in table.Columns!)
        {
            if (column.Type == "choice" && body[column.LogicalName!] is JsonValue value && value.GetValueKind() != JsonValueKind.Null)
            {
                try
                {
                    TableRules.ParseValue(column, JsonSerializer.SerializeToElement(value), column.LogicalName!);
                }
                catch (TableRequestException e)
                {
                    throw new DataRequestException(400, DataErrorCodes.InvalidQuery, e.Message);
                }
            }

            if (column.Type == "lookup" && column.Required == true)
            {
                var bound = body.TryGetPropertyValue(column.LogicalName + "@odata.bind", out var bind);
                if ((creating && !bound) || (bound && bind is null))
                {
                    throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The lookup '{column.LogicalName}' is required: set it with \"{column.LogicalName}@odata.bind\": \"/{Plural(table, column)}(<id>)\".");
                }
            }
        }
    }

    private static string Plural(TableDefinition table, ColumnDefinition column) => column.Target == table.LogicalName ? table.EntitySetName! : TableRules.Plural(column.Target!);

    private static long ParseETag(string value)
    {
        var text = value.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        text = text.Trim('"');
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The If-Match header '{TableRules.Shorten(value)}' is not an ETag of this API (W/\"n\" or *).");
    }
}

/// <summary>The Prefer header preferences the Data API honours.</summary>
internal sealed record Prefer(int? MaxPageSize, bool ReturnRepresentation)
{
    public static Prefer Parse(Microsoft.Extensions.Primitives.StringValues headers)
    {
        int? size = null;
        var representation = false;
        foreach (var header in headers)
        {
            foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var (name, value) = part.Split('=', 2) is [var n, var v] ? (n.Trim(), v.Trim().Trim('"')) : (part, "");
                if (name.Equals("odata.maxpagesize", StringComparison.OrdinalIgnoreCase))
                {
                    size = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n1) && n1 > 0
                        ? Math.Min(n1, DataApiHandler.MaxPageSize)
                        : throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"Prefer: odata.maxpagesize must be a positive number (at most {DataApiHandler.MaxPageSize}).");
                }
                else if (name.Equals("return", StringComparison.OrdinalIgnoreCase) && value.Equals("representation", StringComparison.OrdinalIgnoreCase))
                {
                    representation = true;
                }
            }
        }

        return new Prefer(size, representation);
    }
}
