using Causeway.Connectors;
using Causeway.Platform;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Causeway.ApiManagement;

/// <summary>Registration and mapping of connections and the API-management runtime.</summary>
public static class ApiManagementExtensions
{
    /// <summary>The platform's OAuth redirect endpoint (anonymous; the state parameter names the connection).</summary>
    public const string OAuthCallbackPath = "/apim/oauth/callback";

    /// <summary>
    /// Registers the connector catalog, connections, the master key (file <see cref="ApiManagementOptions.MasterKeyPath"/>),
    /// the shared backend client, the throttle and the runtime. Options come from the configuration section
    /// <c>ApiManagement</c>, then <paramref name="configure"/>; they are validated at start-up. Needs the platform
    /// (<c>AddCausewayPlatform</c>), environments and the gateway component (<c>AddCausewayGateway</c>) registered.
    /// </summary>
    public static IServiceCollection AddCausewayApiManagement(this IServiceCollection services, Action<ApiManagementOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<ApiManagementOptions>().BindConfiguration(ApiManagementOptions.Section);
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiManagementOptions>, OptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(ConnectorStore.Schema);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ApiManagementOptions>>().Value;
            var path = options.MasterKeyPath ?? Path.Combine(sp.GetRequiredService<PlatformOptions>().DataDirectory, "master.key");
            return MasterKeyProtector.LoadOrCreate(path);
        });
        services.TryAddSingleton(sp => new ConnectionThrottle(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<ApiManagementOptions>>().Value.ToThrottleOptions()));
        services.TryAddSingleton<ConnectorStore>();
        services.TryAddSingleton<ConnectionStore>();
        services.TryAddSingleton<BackendClient>();
        services.TryAddSingleton<OAuthTokens>();
        services.TryAddSingleton<Causeway.Gateway.GatewayConnections>();
        services.TryAddSingleton<GatewayCalls>();
        services.TryAddSingleton<ApimRuntime>();
        services.TryAddSingleton<ConnectionTester>();
        return services;
    }

    /// <summary>
    /// Answers <c>ANY /apim/{connector}/{connectionId}/{*path}</c> (bearer token required) ahead of the general pipeline
    /// (a <see cref="Platform.Http.DataPlane"/> lane); place it before routing and authentication.
    /// </summary>
    public static IApplicationBuilder UseApiManagementDataPlane(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return ApimDataPlane.Use(app);
    }

    /// <summary>
    /// Maps the OAuth redirect endpoint <see cref="OAuthCallbackPath"/>. Creates the master key file now if it does not
    /// exist yet.
    /// </summary>
    public static IEndpointRouteBuilder MapApiManagement(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        _ = endpoints.ServiceProvider.GetRequiredService<MasterKeyProtector>();

        endpoints.MapGet(OAuthCallbackPath, async (HttpContext context, CancellationToken ct) =>
        {
            var state = context.Request.Query["state"].ToString();
            var code = context.Request.Query["code"].ToString();
            var store = context.RequestServices.GetRequiredService<ConnectionStore>();
            var connection = state.Length == 0 ? null : await store.FindByOAuthStateAsync(state, ct);
            if (connection is null)
            {
                return Results.Problem(detail: "The sign-in link has expired or was already used; create the connection again.", statusCode: 400, title: "Bad Request");
            }

            if (context.Request.Query["error"].ToString() is { Length: > 0 } error)
            {
                var reason = $"the identity provider refused consent: {Platform.Tenancy.TenancyApi.Shorten(error)}";
                await store.SetStatusAsync(connection, ConnectionStatus.Error, reason, ct);
                return Results.Problem(detail: $"Connection '{connection.Id}': {reason}.", statusCode: 400, title: "Bad Request");
            }

            if (code.Length == 0)
            {
                return Results.Problem(detail: "The redirect carries no authorization code.", statusCode: 400, title: "Bad Request");
            }

            try
            {
                await context.RequestServices.GetRequiredService<OAuthTokens>().ExchangeCodeAsync(connection, code, ct);
            }
            catch (OAuthException e)
            {
                return Results.Problem(detail: $"Connection '{connection.Id}': {e.Message}.", statusCode: 502, title: "Bad Gateway");
            }

            return Results.Ok(new { connection.Id, Status = ConnectionStatus.Connected });
        }).AllowAnonymous().ExcludeFromDescription();

        return endpoints;
    }

    private sealed class OptionsValidator : IValidateOptions<ApiManagementOptions>
    {
        public ValidateOptionsResult Validate(string? name, ApiManagementOptions options)
        {
            var problems = options.Validate().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
