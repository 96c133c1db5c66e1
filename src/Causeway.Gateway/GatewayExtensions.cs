using Causeway.Environments;
using Causeway.Platform;
using Causeway.Platform.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.Gateway;

/// <summary>Thrown at start-up when a <c>Gateway</c> setting is wrong; the message names it.</summary>
public sealed class GatewayConfigurationException(string message) : Exception(message);

/// <summary>Registration of the gateway component.</summary>
public static class GatewayExtensions
{
    /// <summary>
    /// Registers the gateway store, the registry of connected agents and the router. Settings come from the
    /// <c>Gateway</c> configuration section (or <paramref name="options"/>).
    /// </summary>
    /// <exception cref="GatewayConfigurationException">A setting is wrong (thrown when the options are first resolved).</exception>
    public static IServiceCollection AddCausewayGateway(this IServiceCollection services, GatewayOptions? options = null)
    {
        services.AddSingleton(provider =>
        {
            var value = options ?? new GatewayOptions();
            if (options is null)
            {
                provider.GetService<IConfiguration>()?.GetSection("Gateway").Bind(value);
            }

            var problems = value.Validate().ToList();
            return problems.Count == 0 ? value : throw new GatewayConfigurationException(string.Join(" ", problems));
        });
        services.AddSingleton(GatewayStore.Schema);
        services.AddSingleton<GatewayStore>();
        services.AddSingleton<MemberRegistry>();
        services.AddSingleton<GatewayBroker>();
        services.AddSingleton<GatewayRouter>();
        return services;
    }

    /// <summary>
    /// Answers <c>GET</c> on the Data API of bound data sources
    /// (<c>/environments/{environment}/gateway/{data source}/api/data/v9.2/...</c>) as a data-plane lane, ahead of the
    /// general pipeline (see <see cref="DataPlane"/>); place it before routing and authentication.
    /// </summary>
    public static IApplicationBuilder UseGatewayDataPlane(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        var environments = services.GetRequiredService<EnvironmentService>();
        var store = services.GetRequiredService<GatewayStore>();
        var router = services.GetRequiredService<GatewayRouter>();
        var options = services.GetRequiredService<GatewayOptions>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        return app.UseDataPlane<(string Environment, string DataSource, string Path)>("gateway data api", GatewayDataApi.TryMatch,
            (context, route) => GatewayDataApi.HandleAsync(context, route.Environment, route.DataSource, route.Path, environments, store, router, options, loggers));
    }

    /// <summary>
    /// Maps the REST API under <paramref name="api"/> (<c>/api/v1/gateways</c>), the agents' WebSocket endpoint
    /// (<c>/gateway/connect</c>) and the Data API of bound data sources.
    /// </summary>
    public static RouteGroupBuilder MapGatewayApi(this WebApplication app, RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(app);
        _ = app.Services.GetRequiredService<GatewayOptions>();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Map(AgentEndpoint.Path, AgentEndpoint.HandleAsync).ExcludeFromDescription();
        // Described here for the OpenAPI document; with UseGatewayDataPlane in place, the lane answers these requests first.
        app.MapGet(GatewayDataApi.Route, GatewayDataApi.HandleAsync).RequireAuthorization(PlatformExtensions.AuthenticatedPolicy).WithTags("Gateways");
        return api.MapGatewayApi();
    }
}
