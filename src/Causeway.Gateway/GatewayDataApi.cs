using System.Text.Json;
using Causeway.Bus;
using Causeway.Environments;
using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Causeway.Gateway;

/// <summary>
/// The Data API of a bound gateway data source:
/// <c>GET /environments/{environment}/gateway/{data source}/api/data/v9.2/</c> (service document), <c>$metadata</c>,
/// <c>{table}</c> and <c>{table}({key})</c> with OData query options and <c>Prefer: odata.maxpagesize</c>. The request
/// travels over the bus to a member of the cluster, which runs it against the database and streams the answer back;
/// this server copies it to the client as it arrives. Errors are in the OData format.
/// </summary>
internal static class GatewayDataApi
{
    public const string Route = "/environments/{environmentName}/gateway/{dataSourceName}/api/data/v9.2/{**path}";

    private static readonly string[] Literals = ["environments", "gateway", "api", "data", "v9.2"];

    /// <summary>
    /// Recognises <c>GET /environments/{environment}/gateway/{data source}/api/data/v9.2[/{path}]</c>, as
    /// <see cref="Route"/> does (literal segments in any case); false for anything else.
    /// </summary>
    internal static bool TryMatch(HttpRequest request, out (string Environment, string DataSource, string Path) route)
    {
        route = default;
        var value = request.Path.Value;
        if (!HttpMethods.IsGet(request.Method) || value is null || !value.StartsWith("/environments/", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Segments: "" environments {environment} gateway {data source} api data v9.2, then the path (which may hold '/').
        var parts = value.Split('/', 9);
        if (parts.Length < 8 || parts[2].Length == 0 || parts[4].Length == 0
            || !parts[1].Equals(Literals[0], StringComparison.OrdinalIgnoreCase) || !parts[3].Equals(Literals[1], StringComparison.OrdinalIgnoreCase)
            || !parts[5].Equals(Literals[2], StringComparison.OrdinalIgnoreCase) || !parts[6].Equals(Literals[3], StringComparison.OrdinalIgnoreCase)
            || !parts[7].Equals(Literals[4], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        route = (parts[2], parts[4], parts.Length == 9 ? parts[8] : "");
        return true;
    }

    public static string DataApiUrl(HttpRequest request, string environmentName, string bindingName) =>
        $"{request.Scheme}://{request.Host}/environments/{Uri.EscapeDataString(environmentName)}/gateway/{Uri.EscapeDataString(bindingName)}/api/data/v9.2/";

    public static async Task HandleAsync(HttpContext context, string environmentName, string dataSourceName, string? path, EnvironmentService environments,
        GatewayStore store, GatewayRouter router, GatewayOptions options, ILoggerFactory loggers)
    {
        var ct = context.RequestAborted;
        var caller = context.GetCaller();
        var (environment, role) = await environments.ResolveAsync(caller, environmentName, ct);
        if (environment is null || role is null || await store.ResolveBoundAsync(environment.Id, dataSourceName, ct) is not { } bound)
        {
            await ErrorAsync(context, 404, "0x80040217", $"The environment '{environmentName}' exposes no gateway data source '{dataSourceName}'.");
            return;
        }

        var (source, cluster) = bound;
        if (!string.Equals(environment.Geography, cluster.Geography, StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, 400, "GatewayWrongRegion", $"Gateway cluster '{cluster.Name}' serves geography '{cluster.Geography}', not '{environment.Geography}'.");
            return;
        }

        var (kind, entitySet, key) = ParsePath(path ?? "");
        if (kind is null)
        {
            await ErrorAsync(context, 404, "0x80040217", "There is no such resource in this Data API.");
            return;
        }

        var queryOptions = context.Request.Query.Where(q => q.Key.StartsWith('$')).ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var message = new DataRequestMessage(cluster.Id, Descriptor(source), kind, entitySet, key, queryOptions,
            DataApiUrl(context.Request, environment.Name, source.Name), MaxPageSize(context.Request));
        var request = new BusRequest(GatewayOperations.DataRequest, JsonSerializer.SerializeToUtf8Bytes(message, GatewayJson.Default.DataRequestMessage))
        {
            Deadline = DateTimeOffset.UtcNow + options.RequestTimeout,
        };

        IBusResponse response;
        try
        {
            response = await router.SendAsync(cluster, request, ct);
        }
        catch (GatewayUnavailableException e)
        {
            await ErrorAsync(context, 503, GatewayErrorCodes.GatewayUnavailable, e.Message);
            return;
        }
        catch (BusException e)
        {
            var status = e.Kind switch
            {
                BusErrorKind.DeadlineExceeded => 504,
                BusErrorKind.Busy => 503,
                _ => e.Code is GatewayErrorCodes.DataSourceUnreachable or GatewayErrorCodes.DataSourceLoginFailed or GatewayErrorCodes.CredentialsUnreadable ? 502 : 502,
            };
            await ErrorAsync(context, status, e.Code, e.Message);
            return;
        }

        await using (response)
        {
            var head = response.Head.IsEmpty ? null : JsonSerializer.Deserialize(response.Head.Span, GatewayJson.Default.DataResponseHead);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = head?.ContentType ?? "application/json; odata.metadata=minimal";
            context.Response.Headers["OData-Version"] = "4.0";
            if (head?.PreferenceApplied is { } applied)
            {
                context.Response.Headers["Preference-Applied"] = applied;
            }

            if (await BusAnswers.TryWriteWholeAsync(context, response, ct))
            {
                return;
            }

            try
            {
                await response.Body.CopyToAsync(context.Response.Body, 32 * 1024, ct);
            }
            catch (IOException e)
            {
                // The member died or failed mid-stream. The status line is gone already, so the only honest answer left is to
                // break the connection: the client sees an incomplete response, never a truncated success.
                loggers.CreateLogger("Causeway.Gateway.DataApi").LogWarning("A gateway response of cluster {Cluster} was cut short: {Reason}", cluster.Id, e.Message);
                context.Abort();
            }
        }
    }

    /// <summary>
    /// The data source as the agent receives it. Made once per data source record: the store hands out the same record
    /// while it remembers the binding, and a changed data source is a new record.
    /// </summary>
    private static DataSourceDescriptor Descriptor(GatewayDataSource source) =>
        Descriptors.GetValue(source, s => new DataSourceDescriptor(s.Id, s.Name, s.Type, JsonSerializer.Deserialize<DataSourceConnection>(s.Connection, GatewayApi.Web)!,
            s.EncryptedCredentials, s.CreatedAt));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<GatewayDataSource, DataSourceDescriptor> Descriptors = [];

    private static int? MaxPageSize(HttpRequest request)
    {
        foreach (var prefer in request.Headers["Prefer"].SelectMany(v => (v ?? "").Split(',')))
        {
            var part = prefer.Trim();
            if (part.StartsWith("odata.maxpagesize=", StringComparison.OrdinalIgnoreCase) && int.TryParse(part["odata.maxpagesize=".Length..], out var size) && size > 0)
            {
                return size;
            }
        }

        return null;
    }

    internal static (string? Kind, string? EntitySet, string? Key) ParsePath(string path)
    {
        path = path.Trim('/');
        if (path.Length == 0)
        {
            return ("service", null, null);
        }

        if (path == "$metadata")
        {
            return ("metadata", null, null);
        }

        if (path.Contains('/', StringComparison.Ordinal))
        {
            return (null, null, null);
        }

        var open = path.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return ("query", path, null);
        }

        return path.EndsWith(')') && open > 0 ? ("query", path[..open], path[(open + 1)..^1]) : (null, null, null);
    }

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsJsonAsync(new { error = new { code, message } }, context.RequestAborted);
    }
}
