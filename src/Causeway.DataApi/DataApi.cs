using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Data;
using Causeway.Environments;
using Causeway.Platform;
using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.DataApi;

/// <summary>Registration of tables and the Data API.</summary>
public static class DataApiExtensions
{
    /// <summary>Registers the table store (and the engine cache it holds).</summary>
    public static IServiceCollection AddCausewayDataApi(this IServiceCollection services)
    {
        services.AddSingleton<TableStore>();
        services.AddSingleton<DataApiHandler>();
        return services;
    }

    /// <summary>
    /// Maps the Dataverse-style Data API at <c>/environments/{name}/api/data/v9.2/</c>. It needs a bearer token like
    /// <c>/api/v1</c> but answers errors in the OData format.
    /// </summary>
    public static IEndpointConventionBuilder MapDataApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapMethods("/environments/{name}/api/data/v9.2/{**path}", ["GET", "POST", "PATCH", "PUT", "DELETE"],
                (HttpContext context, string name, string? path, DataApiHandler handler) => handler.HandleAsync(context, name, path ?? ""))
            .RequireAuthorization(PlatformExtensions.AuthenticatedPolicy)
            .ExcludeFromDescription();
    }
}

/// <summary>Serves one Data API request: resolves the environment by name within the caller's tenant, checks the role, runs the engine.</summary>
internal sealed partial class DataApiHandler(EnvironmentService environments, TableStore tables, TimeProvider time, ILogger<DataApiHandler> logger)
{
    internal const int MaxPageSize = 5000;

    public async Task HandleAsync(HttpContext context, string name, string path)
    {
        var ct = context.RequestAborted;
        context.Response.Headers["OData-Version"] = "4.0";
        try
        {
            var caller = context.GetCaller();
            var (environment, role) = await environments.ResolveAsync(caller, name, ct);
            if (environment is null || role is null)
            {
                throw new DataRequestException(404, DataErrorCodes.NotFound, $"Environment '{TableRules.Shorten(name)}' was not found.");
            }

            switch (environment.StateAt(time.GetUtcNow()))
            {
                case EnvironmentState.Ready:
                    break;
                case EnvironmentState.Disabled:
                    throw new DataRequestException(403, ApiErrorCodes.EnvironmentDisabled, $"Environment '{environment.Name}' is disabled (its trial expired); its data cannot be read or changed.");
                default:
                    throw new DataRequestException(503, ApiErrorCodes.EnvironmentNotReady, $"Environment '{environment.Name}' is not ready; try again later.");
            }

            var snapshot = await tables.GetAsync(environment, ct);
            var request = new DataRequest(context, snapshot, tables.DatabaseOf(environment), ServiceRoot(context.Request, environment.Name));
            await DispatchAsync(request, path);
        }
        catch (DataRequestException e)
        {
            if (e.StatusCode >= 500)
            {
                LogFailure(logger, e.InnerException ?? e, context.Request.Method, context.Request.Path);
            }

            await WriteErrorAsync(context, e);
        }
        catch (TableRequestException e)
        {
            await WriteErrorAsync(context, new DataRequestException(400, DataErrorCodes.InvalidQuery, e.Message));
        }
        catch (Exception e) when ((e is System.Data.Common.DbException or InvalidOperationException or TimeoutException) && !ct.IsCancellationRequested)
        {
            // Opening the environment's database or reading its tables failed: the details go to the log, not the client.
            LogFailure(logger, e, context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, new DataRequestException(500, DataErrorCodes.DatabaseError, "The environment's database could not complete the request."));
        }
    }

    internal static Uri ServiceRoot(HttpRequest request, string environment) => new($"{request.Scheme}://{request.Host}/environments/{environment}/api/data/v9.2/");

    internal static async Task WriteErrorAsync(HttpContext context, DataRequestException error)
    {
        if (context.Response.HasStarted)
        {
            // Half a JSON body cannot be taken back: abort so the client sees a failed response, not a short page.
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.Headers["OData-Version"] = "4.0";
        context.Response.StatusCode = error.StatusCode;
        context.Response.ContentType = "application/json; odata.metadata=minimal";
        await using (var writer = new Utf8JsonWriter(context.Response.Body))
        {
            DataEngine.WriteError(writer, error);
        }
    }

    internal async Task DispatchAsync(DataRequest request, string path)
    {
        var method = request.Context.Request.Method;
        if (path.Length == 0)
        {
            RequireMethod(method, "GET");
            request.Context.Response.ContentType = "application/json; odata.metadata=minimal";
            await request.Snapshot.Engine.WriteServiceDocumentAsync(request.Context.Response.Body, request.ServiceRoot, request.Context.RequestAborted);
            return;
        }

        if (path == "$metadata")
        {
            RequireMethod(method, "GET");
            using var buffer = new MemoryStream();
            request.Snapshot.Engine.WriteMetadata(buffer);
            request.Context.Response.ContentType = "application/xml";
            await request.Context.Response.Body.WriteAsync(buffer.ToArray(), request.Context.RequestAborted);
            return;
        }

        if (path == "$batch")
        {
            RequireMethod(method, "POST");
            await BatchHandler.HandleAsync(this, request);
            return;
        }

        var (entitySet, key) = ParsePath(path);
        switch (method)
        {
            case "GET":
                await DataOperations.QueryAsync(request, entitySet, key);
                break;
            case "POST" when key is null:
                await DataOperations.CreateAsync(request, entitySet);
                break;
            case "PATCH" when key is not null:
                await DataOperations.UpdateAsync(request, entitySet, key);
                break;
            case "DELETE" when key is not null:
                await DataOperations.DeleteAsync(request, entitySet, key);
                break;
            default:
                throw new DataRequestException(405, DataErrorCodes.InvalidQuery, $"{method} is not supported on '{TableRules.Shorten(path)}'.");
        }
    }

    internal static (string EntitySet, string? Key) ParsePath(string path)
    {
        var open = path.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return path.Contains('/', StringComparison.Ordinal)
                ? throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The path '{TableRules.Shorten(path)}' is not supported: address an entity set or one row by key.")
                : (path, null);
        }

        if (!path.EndsWith(')'))
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, $"The path '{TableRules.Shorten(path)}' is not supported: address an entity set or one row by key (navigation and property paths are not).");
        }

        var key = path[(open + 1)..^1];
        if (key.Length == 0)
        {
            throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "The key in the path is empty.");
        }

        return (path[..open], key);
    }

    private static void RequireMethod(string method, string expected)
    {
        if (method != expected)
        {
            throw new DataRequestException(405, DataErrorCodes.InvalidQuery, $"Use {expected} here.");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Data API {Method} {Path} failed in the database")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}

/// <summary>One request's context: the HTTP exchange, the environment's tables and engine, its database and service root.</summary>
internal sealed record DataRequest(HttpContext Context, TableStore.Snapshot Snapshot, Causeway.Platform.Database.SqlDatabase Database, Uri ServiceRoot)
{
    /// <summary>Within a $batch change set: the connection whose transaction every operation joins.</summary>
    public System.Data.Common.DbConnection? Shared { get; init; }
}

/// <summary>Error codes for conditions outside the engine.</summary>
internal static class ApiErrorCodes
{
    /// <summary>The environment is disabled (an expired trial).</summary>
    public const string EnvironmentDisabled = "0x80072322";

    /// <summary>The environment is being created or deleted.</summary>
    public const string EnvironmentNotReady = "0x80072321";
}
