using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.Platform.Http;

/// <summary>Recognises a data-plane request and takes its route values from the path; false for any other request.</summary>
public delegate bool DataPlaneMatch<TRoute>(HttpRequest request, out TRoute route);

/// <summary>
/// Data-plane requests (API calls through <c>/apim</c>, a gateway data source's Data API) answered ahead of the management
/// API's general pipeline, as an API gateway keeps its data plane apart from its management API. Each lane recognises
/// its own paths, checks the bearer token with the platform's own <see cref="BearerTokens"/> (the same tokens, failures
/// and 401 as every other endpoint) and hands the request to its handler. Endpoint routing, the authentication and
/// authorization middleware and the status-code pages cost every request and add nothing there: the handlers write
/// their own errors. Requests a lane does not recognise go on to the general pipeline. Place lanes before routing.
/// </summary>
public static partial class DataPlane
{
    /// <summary>Adds a lane: authenticated requests that <paramref name="match"/> recognises go to <paramref name="handle"/>.</summary>
    /// <param name="name">What the lane serves, for the log of unexpected failures.</param>
    public static IApplicationBuilder UseDataPlane<TRoute>(this IApplicationBuilder app, string name, DataPlaneMatch<TRoute> match, Func<HttpContext, TRoute, Task> handle)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(handle);
        var tenants = app.ApplicationServices.GetRequiredService<TenantStore>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Causeway.DataPlane");
        return app.Use(next => context => match(context.Request, out var route) ? HandleAsync(context, route, name, tenants, logger, handle) : next(context));
    }

    private static async Task HandleAsync<TRoute>(HttpContext context, TRoute route, string name, TenantStore tenants, ILogger logger, Func<HttpContext, TRoute, Task> handle)
    {
        try
        {
            var (caller, failure) = await BearerTokens.AuthenticateAsync(context, tenants);
            if (caller is null)
            {
                await BearerTokens.ChallengeAsync(context, failure);
                return;
            }

            await handle(context, route);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
        }
        catch (Exception e)
        {
            // What the general pipeline's exception handler does: log it, reveal nothing of it.
            Log.Unhandled(logger, e, name, context.Request.Method);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            context.Response.Clear();
            await Problems.Unexpected().ExecuteAsync(context);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 90, Level = LogLevel.Error, Message = "{Lane}: a {Method} request failed")]
        public static partial void Unhandled(ILogger logger, Exception exception, string lane, string method);
    }
}
