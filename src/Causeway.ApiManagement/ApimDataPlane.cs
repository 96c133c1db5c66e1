using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement;

/// <summary>
/// <c>ANY /apim/{connector}/{connectionId}/{*path}</c> answered ahead of the general pipeline, as an API gateway's data
/// plane is kept apart from its management API: the path is recognised by hand, the bearer token is checked by the
/// platform's own <see cref="BearerTokens"/> (the same tokens, failures and 401 as every other endpoint), and the call
/// goes straight to <see cref="ApimRuntime"/>. Endpoint routing, the authentication and authorization middleware and
/// the status-code pages cost every call and add nothing here: the runtime writes its own problem details. Paths that
/// are not a call (a second segment that is not a GUID, such as the OAuth redirect) go on to the general pipeline.
/// </summary>
internal static partial class ApimDataPlane
{
    private const string Prefix = "/apim/";

    public static IApplicationBuilder Use(IApplicationBuilder app)
    {
        var runtime = app.ApplicationServices.GetRequiredService<ApimRuntime>();
        var tenants = app.ApplicationServices.GetRequiredService<TenantStore>();
        var logger = app.ApplicationServices.GetRequiredService<ILogger<ApimRuntime>>();
        return app.Use(next => context => TryParse(context.Request.Path, out var connector, out var connectionId)
            ? HandleAsync(context, runtime, tenants, logger, connector, connectionId)
            : next(context));
    }

    /// <summary>Splits <c>/apim/{connector}/{connectionId}[/rest]</c>; false for anything else.</summary>
    internal static bool TryParse(PathString path, out string connector, out Guid connectionId)
    {
        connector = "";
        connectionId = default;
        var value = path.Value;
        if (value is null || !value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = value.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        var afterConnector = rest[(slash + 1)..];
        var end = afterConnector.IndexOf('/');
        if (!Guid.TryParse(end < 0 ? afterConnector : afterConnector[..end], out connectionId))
        {
            return false;
        }

        connector = rest[..slash].ToString();
        return true;
    }

    private static async Task HandleAsync(HttpContext context, ApimRuntime runtime, TenantStore tenants, ILogger logger, string connector, Guid connectionId)
    {
        try
        {
            var (caller, failure) = await BearerTokens.AuthenticateAsync(context, tenants);
            if (caller is null)
            {
                await BearerTokens.ChallengeAsync(context, failure);
                return;
            }

            await runtime.HandleAsync(context, connector, connectionId);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
        }
        catch (Exception e)
        {
            // What the general pipeline's exception handler does: log it, reveal nothing of it.
            Log.Unhandled(logger, e, connector, connectionId);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            await Results.Problem(detail: "The server failed to process the request; the error is in the server's log.", statusCode: 500, title: "Internal Server Error")
                .ExecuteAsync(context);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "apim {Connector} connection {ConnectionId}: the call failed")]
        public static partial void Unhandled(ILogger logger, Exception exception, string connector, Guid connectionId);
    }
}
