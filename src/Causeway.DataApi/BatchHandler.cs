using System.Data.Common;
using System.Globalization;
using System.Text;
using Causeway.Data;
using Causeway.Platform.Database;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Causeway.DataApi;

/// <summary>
/// <c>POST $batch</c> (OData v4 multipart/mixed, as Dataverse accepts it): up to 1000 requests; a change set runs in one
/// transaction of the environment's database and fails as a whole. Requests outside change sets run one by one; the
/// batch stops at the first failure unless <c>Prefer: odata.continue-on-error</c>. <c>$n</c> at the start of a URL
/// inside a change set refers to the entity created by the request with <c>Content-ID: n</c>.
/// </summary>
internal static class BatchHandler
{
    public const int MaxRequests = 1000;

    private sealed record BatchPart(string Method, string Url, Dictionary<string, string> Headers, string Body, string? ContentId);

    public static async Task HandleAsync(DataApiHandler handler, DataRequest request)
    {
        var context = request.Context;
        var groups = await ReadAsync(context.Request);
        var total = groups.Sum(g => g.Count);
        if (total > MaxRequests)
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"A batch can hold at most {MaxRequests} requests (this one has {total}).");
        }

        var continueOnError = context.Request.Headers["Prefer"].Any(p => p?.Contains("odata.continue-on-error", StringComparison.OrdinalIgnoreCase) == true);
        var boundary = $"batchresponse_{Guid.NewGuid()}";
        var output = new StringBuilder();
        foreach (var group in groups)
        {
            var failed = false;
            output.Append("--").Append(boundary).Append("\r\n");
            if (group.IsChangeSet)
            {
                var changeBoundary = $"changesetresponse_{Guid.NewGuid()}";
                var responses = await RunChangeSetAsync(handler, request, group.Parts);
                failed = responses.Any(r => r.Context.Response.StatusCode >= 400);
                output.Append("Content-Type: multipart/mixed; boundary=").Append(changeBoundary).Append("\r\n\r\n");
                foreach (var (part, sub) in responses)
                {
                    output.Append("--").Append(changeBoundary).Append("\r\n");
                    AppendResponse(output, part, sub);
                }

                output.Append("--").Append(changeBoundary).Append("--\r\n");
            }
            else
            {
                var part = group.Parts[0];
                var sub = await RunAsync(handler, request, part, null, []);
                failed = sub.Response.StatusCode >= 400;
                AppendResponse(output, part, sub);
            }

            if (failed && !continueOnError)
            {
                break;
            }
        }

        output.Append("--").Append(boundary).Append("--\r\n");
        context.Response.StatusCode = 200;
        context.Response.ContentType = $"multipart/mixed; boundary={boundary}";
        await context.Response.WriteAsync(output.ToString(), context.RequestAborted);
    }

    private sealed record Group(bool IsChangeSet, List<BatchPart> Parts)
    {
        public int Count => Parts.Count;
    }

    private static async Task<List<(BatchPart Part, HttpContext Context)>> RunChangeSetAsync(DataApiHandler handler, DataRequest request, List<BatchPart> parts)
    {
        // The engine's commands carry no transaction object, so the transaction is opened with plain SQL on the connection
        // they share (Microsoft.Data.Sqlite would otherwise refuse commands without it).
        var results = new List<(BatchPart, HttpContext)>();
        await using var connection = await request.Database.OpenAsync(request.Context.RequestAborted);
        await ExecuteAsync(connection, request.Database.Provider == DatabaseProvider.Sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
        var created = new Dictionary<string, string>(StringComparer.Ordinal);
        var committed = false;
        try
        {
            foreach (var part in parts)
            {
                var sub = await RunAsync(handler, request, part, connection, created);
                if (sub.Response.StatusCode >= 400)
                {
                    // The change set fails as a whole: its one response is the failed request's.
                    return [(part, sub)];
                }

                if (part.ContentId is { } id && sub.Response.Headers["OData-EntityId"].ToString() is { Length: > 0 } entity)
                {
                    created[id] = entity;
                }

                results.Add((part, sub));
            }

            await ExecuteAsync(connection, "COMMIT");
            committed = true;
            return results;
        }
        finally
        {
            if (!committed)
            {
                await ExecuteAsync(connection, "ROLLBACK");
            }
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<HttpContext> RunAsync(DataApiHandler handler, DataRequest request, BatchPart part, DbConnection? shared, Dictionary<string, string> created)
    {
        var sub = new DefaultHttpContext { RequestServices = request.Context.RequestServices, User = request.Context.User, RequestAborted = request.Context.RequestAborted };
        sub.Request.Scheme = request.Context.Request.Scheme;
        sub.Request.Host = request.Context.Request.Host;
        sub.Request.Method = part.Method;
        foreach (var (name, value) in part.Headers)
        {
            sub.Request.Headers[name] = value;
        }

        sub.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(part.Body));
        sub.Response.Body = new MemoryStream();
        try
        {
            var url = part.Url;
            if (url.StartsWith('$') && created.Count > 0)
            {
                var end = url.IndexOfAny(['/', '?']);
                var reference = end < 0 ? url[1..] : url[1..end];
                url = created.TryGetValue(reference, out var entity)
                    ? entity + (end < 0 ? "" : url[end..])
                    : throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"'${reference}' names no earlier request of the change set.");
            }

            var root = request.ServiceRoot.AbsoluteUri;
            var rootPath = request.ServiceRoot.AbsolutePath;
            var relative = url.StartsWith(root, StringComparison.OrdinalIgnoreCase) ? url[root.Length..]
                : url.StartsWith(rootPath, StringComparison.OrdinalIgnoreCase) ? url[rootPath.Length..]
                : url.Contains("://", StringComparison.Ordinal) || url.StartsWith('/')
                    ? throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The batch request URL '{TableRules.Shorten(url)}' is not in this environment's Data API.")
                    : url;
            var question = relative.IndexOf('?', StringComparison.Ordinal);
            var path = question < 0 ? relative : relative[..question];
            sub.Request.QueryString = question < 0 ? QueryString.Empty : new QueryString(relative[question..]);
            if (path is "$batch" or "$metadata" or "")
            {
                throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"'{(path.Length == 0 ? "/" : path)}' cannot be requested inside a batch.");
            }

            if (shared is not null && part.Method == "GET")
            {
                throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "A change set may hold only POST, PATCH and DELETE requests.");
            }

            await handler.DispatchAsync(new DataRequest(sub, request.Snapshot, request.Database, request.ServiceRoot) { Shared = shared }, Uri.UnescapeDataString(path));
        }
        catch (DataRequestException e)
        {
            await DataApiHandler.WriteErrorAsync(sub, e);
        }

        return sub;
    }

    private static void AppendResponse(StringBuilder output, BatchPart part, HttpContext sub)
    {
        output.Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
        if (part.ContentId is { } id)
        {
            output.Append("Content-ID: ").Append(id).Append("\r\n");
        }

        var status = sub.Response.StatusCode;
        output.Append("\r\nHTTP/1.1 ").Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrases.GetReasonPhrase(status)).Append("\r\n");
        if (sub.Response.ContentType is { } type)
        {
            output.Append("Content-Type: ").Append(type).Append("\r\n");
        }

        foreach (var (name, value) in sub.Response.Headers.Where(h => h.Key is not "Content-Type"))
        {
            output.Append(name).Append(": ").Append(value.ToString()).Append("\r\n");
        }

        output.Append("\r\n");
        var body = ((MemoryStream)sub.Response.Body).ToArray();
        if (body.Length > 0)
        {
            output.Append(Encoding.UTF8.GetString(body)).Append("\r\n");
        }
    }

    private static async Task<List<Group>> ReadAsync(HttpRequest request)
    {
        var boundary = Boundary(request.ContentType);
        var reader = new MultipartReader(boundary, request.Body);
        var groups = new List<Group>();
        var count = 0;
        while (await reader.ReadNextSectionAsync(request.HttpContext.RequestAborted) is { } section)
        {
            if (section.ContentType?.StartsWith("multipart/mixed", StringComparison.OrdinalIgnoreCase) == true)
            {
                var inner = new MultipartReader(Boundary(section.ContentType), section.Body);
                var parts = new List<BatchPart>();
                while (await inner.ReadNextSectionAsync(request.HttpContext.RequestAborted) is { } change)
                {
                    parts.Add(await ReadPartAsync(change));
                    CheckCount(++count);
                }

                groups.Add(new Group(true, parts));
            }
            else
            {
                groups.Add(new Group(false, [await ReadPartAsync(section)]));
                CheckCount(++count);
            }
        }

        return groups;
    }

    private static void CheckCount(int count)
    {
        if (count > MaxRequests)
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"A batch can hold at most {MaxRequests} requests.");
        }
    }

    private static string Boundary(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.MediaType.Equals("multipart/mixed", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(media.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "A $batch request needs Content-Type: multipart/mixed with a boundary.");
        }

        return boundary;
    }

    private static async Task<BatchPart> ReadPartAsync(MultipartSection section)
    {
        string? contentId = section.Headers is { } headers && headers.TryGetValue("Content-ID", out var id) ? id.ToString() : null;
        using var reader = new StreamReader(section.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var first = Array.FindIndex(lines, l => l.Length > 0);
        var requestLine = first < 0 ? [] : lines[first].Split(' ');
        if (requestLine.Length < 2 || requestLine[0] is not ("GET" or "POST" or "PATCH" or "DELETE"))
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "Each batch part must be an HTTP request: 'METHOD URL HTTP/1.1', headers, a blank line and the body.");
        }

        var partHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = first + 1;
        for (; i < lines.Length && lines[i].Length > 0; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                partHeaders[lines[i][..colon].Trim()] = lines[i][(colon + 1)..].Trim();
            }
        }

        var body = string.Join("\n", lines.Skip(i + 1)).Trim();
        return new BatchPart(requestLine[0], requestLine[1], partHeaders, body, contentId);
    }
}
