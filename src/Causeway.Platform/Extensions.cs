using System.Text.Json;
using Causeway.Platform.Database;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Topology;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Causeway.Platform;

/// <summary>Registration of the platform core.</summary>
public static class PlatformExtensions
{
    /// <summary>The name of the authorization policy every <c>/api/v1</c> endpoint requires.</summary>
    public const string AuthenticatedPolicy = "causeway-authenticated";

    /// <summary>The name of the authorization policy that admits platform operators only.</summary>
    public const string OperatorPolicy = "causeway-operator";

    /// <summary>
    /// Registers the platform database, tenants and bearer-token authentication. <paramref name="options"/> must be valid
    /// (see <see cref="PlatformOptions.Validate"/>).
    /// </summary>
    public static IServiceCollection AddCausewayPlatform(this IServiceCollection services, PlatformOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(options.CreateDatabase());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TenantStore>();
        services.AddSingleton(TenantStore.Schema);
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthenticatedPolicy, p => p.RequireAuthenticatedUser())
            .AddPolicy(OperatorPolicy, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.HasClaim(CallerClaims.OperatorClaim, "true")));
        return services;
    }

    /// <summary>
    /// Applies every registered migration and, on the first start, creates the default tenant with its administrator
    /// (a platform operator) and writes that administrator's token to <c>{data dir}/admin-token</c> with mode 0600.
    /// </summary>
    public static async Task InitializeCausewayPlatformAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Causeway.Platform");
        var database = services.GetRequiredService<SqlDatabase>();
        await Migrator.ApplyAsync(database, services.GetServices<Migration>(), logger, cancellationToken);

        var tenants = services.GetRequiredService<TenantStore>();
        if (await tenants.CountTenantsAsync(cancellationToken) > 0)
        {
            return;
        }

        var options = services.GetRequiredService<PlatformOptions>();
        var (tenant, _, token) = await tenants.CreateTenantAsync("default", "admin", administratorIsOperator: true, cancellationToken);
        var path = Path.Combine(options.DataDirectory, "admin-token");
        await SecretFile.WriteAsync(path, token + "\n", cancellationToken);
        logger.LogInformation("Created tenant {Tenant} with administrator 'admin'; its token is in {Path}", tenant.Name, path);
    }

    /// <summary>
    /// Answers unhandled exceptions with problem details: bad request bodies (malformed JSON, too large) with their status,
    /// conflicts with 409, anything else with a 500 that reveals nothing of the exception.
    /// </summary>
    public static IApplicationBuilder UseCausewayProblemDetails(this IApplicationBuilder app) => app.UseExceptionHandler(error => error.Run(async context =>
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad when bad.StatusCode == 413 => (413, "Payload Too Large", "The request body is larger than this endpoint accepts."),
            BadHttpRequestException { InnerException: JsonException json } => (400, "Bad Request", $"The request body is not valid JSON: {FirstSentence(json.Message)}"),
            BadHttpRequestException bad => (bad.StatusCode, "Bad Request", FirstSentence(bad.Message)),
            ConflictException conflict => (409, "Conflict", conflict.Message),
            CapacityExhaustedException full => (409, "Conflict", full.Message),
            _ => (500, "Internal Server Error", Problems.UnexpectedDetail),
        };
        await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
    }));

    /// <summary>Gives empty error answers (no endpoint, wrong method, body too large, wrong media type) a problem body that says why.</summary>
    public static IApplicationBuilder UseCausewayStatusCodePages(this IApplicationBuilder app) => app.UseStatusCodePages(async context =>
    {
        var status = context.HttpContext.Response.StatusCode;
        var detail = status switch
        {
            404 => "There is no such resource or endpoint.",
            405 => $"The endpoint does not accept {context.HttpContext.Request.Method}.",
            413 => "The request body is larger than this endpoint accepts.",
            415 => "The request body must be application/json.",
            _ => null,
        };
        await Results.Problem(detail: detail, statusCode: status).ExecuteAsync(context.HttpContext);
    });

    /// <summary>The group every authenticated REST endpoint hangs from: <c>/api/v1</c>.</summary>
    public static RouteGroupBuilder MapCausewayApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup("/api/v1").RequireAuthorization(AuthenticatedPolicy);

    private static string FirstSentence(string message)
    {
        // System.Text.Json messages end with the position ("Path: $.name | LineNumber: 0 | BytePositionInLine: 9."), which helps; keep it.
        var text = message.ReplaceLineEndings(" ");
        return text.Length > 300 ? text[..300] : text;
    }
}
