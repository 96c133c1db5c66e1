using Causeway.Relay.DataPlane;
using Causeway.Relay.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Causeway.Relay;

/// <summary>Maps the relay's endpoints. Requires <see cref="RelayServiceCollectionExtensions.AddCausewayRelay"/>.</summary>
public static class RelayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the data plane: <c>/$hc/{path}</c> WebSockets (listen, connect, accept, request) and HTTP mode on every other
    /// path. It catches all paths, so host it on the relay's own port (e.g. <c>.RequireHost("*:5671")</c> on the result,
    /// or a dedicated application). WebSocket support is built in; the host need not call <c>UseWebSockets</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapRelay(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handler = endpoints.ServiceProvider.GetRequiredService<RelayRequestHandler>();
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<RelayOptions>>().Value;
        var pipeline = endpoints.CreateApplicationBuilder()
            .UseWebSockets(new WebSocketOptions { KeepAliveInterval = options.KeepAliveInterval });
        pipeline.Run(handler.HandleAsync);
        var group = endpoints.MapGroup("");
        group.Map("/{**relayPath}", pipeline.Build()).WithDisplayName("Causeway relay");
        return group;
    }

    /// <summary>
    /// Maps <c>POST/GET /api/v1/relay/hybridconnections</c> and <c>GET/DELETE /api/v1/relay/hybridconnections/{path}</c>.
    /// Errors are RFC 9457 problem details. Deleting a hybrid connection closes its listeners with 1001.
    /// </summary>
    public static RouteGroupBuilder MapRelayManagementApi(this IEndpointRouteBuilder endpoints, Action<RelayManagementOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var management = new RelayManagementOptions();
        configure?.Invoke(management);
        var group = endpoints.MapGroup(ManagementEndpoints.Route);
        if (management.AuthorizationPolicy is { } policy)
        {
            group.RequireAuthorization(policy);
        }

        group.MapPost("", (CreateHybridConnectionRequest? body, HttpContext context) =>
            ManagementEndpoints.CreateAsync(body, context, Store(context), Hub(context), Options(context), management, Time(context)));
        group.MapGet("", (Func<HttpContext, Task<IResult>>)(context =>
            ManagementEndpoints.ListAsync(context, Store(context), Hub(context), Options(context), management)));
        group.MapGet("/{**path}", (string path, HttpContext context) =>
            ManagementEndpoints.GetAsync(path, context, Store(context), Hub(context), Options(context), management));
        group.MapDelete("/{**path}", (string path, HttpContext context) =>
            ManagementEndpoints.DeleteAsync(path, context, Store(context), Hub(context)));
        return group;
    }

    private static HybridConnections.IHybridConnectionStore Store(HttpContext context) => context.RequestServices.GetRequiredService<HybridConnections.IHybridConnectionStore>();

    private static RelayHub Hub(HttpContext context) => context.RequestServices.GetRequiredService<RelayHub>();

    private static IOptions<RelayOptions> Options(HttpContext context) => context.RequestServices.GetRequiredService<IOptions<RelayOptions>>();

    private static TimeProvider Time(HttpContext context) => context.RequestServices.GetRequiredService<TimeProvider>();
}
