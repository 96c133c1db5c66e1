using Causeway.Relay.DataPlane;
using Causeway.Relay.HybridConnections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Causeway.Relay;

/// <summary>Registers the relay.</summary>
public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the relay's services: options (validated at start-up), the SQLite <see cref="IHybridConnectionStore"/> (unless
    /// one is already registered) and the live listener state. Then map <see cref="RelayEndpointRouteBuilderExtensions.MapRelay"/>
    /// on the relay port and <see cref="RelayEndpointRouteBuilderExtensions.MapRelayManagementApi"/> on the API.
    /// </summary>
    public static IServiceCollection AddCausewayRelay(this IServiceCollection services, Action<RelayOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<RelayOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IHybridConnectionStore>(sp =>
            new SqliteHybridConnectionStore(sp.GetRequiredService<IOptions<RelayOptions>>().Value.DatabasePath));
        services.TryAddSingleton<RelayHub>();
        services.TryAddSingleton(sp => new RelayListeners(sp.GetRequiredService<RelayHub>()));
        services.TryAddSingleton<RelayAuthorizer>();
        services.TryAddSingleton<RelayRequestHandler>();
        return services;
    }
}
