using Causeway.Platform.Tenancy;
using Causeway.Topology;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.Environments;

/// <summary>Registration of environments.</summary>
public static class EnvironmentsExtensions
{
    /// <summary>Registers the environment service, its databases and the Default environment of every new tenant.</summary>
    public static IServiceCollection AddCausewayEnvironments(this IServiceCollection services, DeploymentTopology topology, EnvironmentDatabaseOptions databases)
    {
        services.AddSingleton(topology);
        services.AddSingleton(databases);
        services.AddSingleton<EnvironmentDatabases>();
        services.AddSingleton<EnvironmentService>();
        services.AddSingleton(EnvironmentService.Schema);
        services.AddSingleton<ITenantLifecycle, DefaultEnvironmentLifecycle>();
        return services;
    }
}

/// <summary>Gives every new tenant its Default environment, in the deployment's first geography.</summary>
internal sealed class DefaultEnvironmentLifecycle(EnvironmentService environments) : ITenantLifecycle
{
    public Task TenantCreatedAsync(Tenant tenant, User administrator, CancellationToken cancellationToken) =>
        environments.CreateAsync(tenant.Id, administrator.Id, "default", environments.Topology.Geographies[0].Id, EnvironmentType.Default, earlyRelease: false, cancellationToken);
}
