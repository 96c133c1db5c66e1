using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Causeway.ApiManagement;
using Causeway.DataApi;
using Causeway.Environments;
using Causeway.Flows.Api;
using Causeway.Gateway;
using Causeway.Platform;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;
using Causeway.Relay;
using Causeway.Security;
using Causeway.Topology;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Causeway.Server;

/// <summary>Thrown when the configuration is wrong; each message names a setting and what would fix it.</summary>
public sealed class StartupException(IReadOnlyList<string> problems) : Exception(string.Join(Environment.NewLine, problems))
{
    /// <summary>One message per wrong setting.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Builds, composes and runs the server.</summary>
public static class CausewayServer
{
    private static readonly HashSet<string> KnownSwitches = ["--data-dir", "--port"];

    /// <summary>Runs until stopped (Ctrl+C, SIGTERM). Returns the process exit code: 0, or 2 for a configuration error.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync("Usage: Causeway.Server [--data-dir DIR] [--port N]\nSettings: causeway.json in DIR or beside the program; environment variables CAUSEWAY_Section__Key. See docs/configuration.md.");
            return 0;
        }

        WebApplication app;
        try
        {
            app = await BuildAsync(args);
        }
        catch (StartupException e)
        {
            foreach (var problem in e.Problems)
            {
                await error.WriteLineAsync($"Causeway cannot start: {problem}");
            }

            return 2;
        }

        await using (app)
        {
            await app.StartAsync();
            await output.WriteLineAsync($"Causeway is ready at {ReadyUrl(app)}");
            await output.FlushAsync();
            await app.WaitForShutdownAsync();
        }

        return 0;
    }

    /// <summary>The https URL the server answers on, with the bound port.</summary>
    public static string ReadyUrl(WebApplication app) => $"https://localhost:{app.Services.GetRequiredService<BoundEndpoints>().ApiPort}/";

    /// <summary>The https URL of the relay (its own port), with the bound port.</summary>
    public static string RelayUrl(WebApplication app) => $"https://localhost:{app.Services.GetRequiredService<BoundEndpoints>().RelayPort}/";

    /// <summary>
    /// Reads and validates the configuration, prepares the data directory (certificate, databases, first tenant) and returns
    /// the composed application, not yet started.
    /// </summary>
    /// <exception cref="StartupException">A setting is wrong.</exception>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var (dataDir, port) = ParseArguments(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "causeway.json"), optional: true)
            .AddJsonFile(Path.GetFullPath(Path.Combine(dataDir ?? ".causeway", "causeway.json")), optional: true)
            .AddEnvironmentVariables("CAUSEWAY_");
        var overrides = new Dictionary<string, string?>();
        if (dataDir is not null)
        {
            overrides["Server:DataDirectory"] = dataDir;
        }

        if (port is not null)
        {
            overrides["Server:Port"] = port;
        }

        builder.Configuration.AddInMemoryCollection(overrides);
        configure?.Invoke(builder);

        var settings = ReadSettings(builder.Configuration);
        Directory.CreateDirectory(settings.Platform.DataDirectory);
        var certificate = LoadOrCreateCertificate(settings);

        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        // Hosting's own category logs only request start and finish (Information), which the rule above drops anyway; while
        // it is enabled at all, hosting still makes an activity and a log scope for every request.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole();
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        }

        var bound = new BoundEndpoints();
        builder.Services.AddSingleton(bound);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            void Https(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen) =>
                listen.UseHttps(certificate, https => https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13);
            void Listen(int port, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure)
            {
                switch (settings.Server.ListenAddress.ToLowerInvariant())
                {
                    case "localhost":
                        kestrel.Listen(IPAddress.Loopback, port, configure);
                        break;
                    case "any":
                        kestrel.ListenAnyIP(port, configure);
                        break;
                    default:
                        kestrel.Listen(IPAddress.Parse(settings.Server.ListenAddress), port, configure);
                        break;
                }
            }

            // Kestrel writes the bound port back into the listen options, which is how port 0 becomes a known port.
            Listen(settings.Server.Port, listen =>
            {
                Https(listen);
                bound.Api = listen;
            });
            Listen(settings.Server.RelayPort, listen =>
            {
                Https(listen);
                bound.Relay = listen;
            });
        });

        Compose(builder.Services, settings);
        var app = builder.Build();
        await app.Services.InitializeCausewayPlatformAsync();
        Map(app, settings);
        return app;
    }

    /// <summary>The components of the server, registered.</summary>
    internal static void Compose(IServiceCollection services, ServerSettings settings)
    {
        services.AddSingleton(settings);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(settings.Platform.DataDirectory, "keys")));
        services.AddCausewayTelemetry(settings.Telemetry);
        services.AddOpenApi();
        services.AddCausewayPlatform(settings.Platform);
        services.AddCausewayEnvironments(settings.Topology, settings.EnvironmentDatabases);
        services.AddCausewayRelay(relay =>
        {
            settings.Relay.CopyTo(relay);
            relay.DatabasePath = Path.Combine(settings.Platform.DataDirectory, "relay.db");
        });
        services.AddCausewayGateway();
        services.AddCausewayApiManagement();
        services.AddCausewayDataApi();
        services.AddCausewayDesktopFlows();
    }

    /// <summary>The components of the server, mapped.</summary>
    internal static void Map(WebApplication app, ServerSettings settings)
    {
        app.UseCausewayTelemetry();

        // The relay has a port of its own, like a namespace host: every request there belongs to its data plane.
        var bound = app.Services.GetRequiredService<BoundEndpoints>();
        app.MapWhen(context => context.Connection.LocalPort == bound.RelayPort, relay =>
        {
            relay.UseRouting();
            relay.UseEndpoints(endpoints => endpoints.MapRelay());
        });
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<IOptions<RelayOptions>>().Value.PublicPort = bound.RelayPort);

        // The data planes (/apim, the Data API of gateway data sources) answer before routing and the management API's middleware.
        app.UseApiManagementDataPlane();
        app.UseGatewayDataPlane();
        app.UseRouting();
        app.UseCausewayProblemDetails();
        app.UseCausewayStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/health/live", () => Results.Ok(new { status = "live" })).ExcludeFromDescription();
        app.MapGet("/health/ready", async (SqlDatabase database, CancellationToken ct) =>
        {
            try
            {
                await using var connection = await database.OpenAsync(ct);
                return Results.Ok(new { status = "ready" });
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                return Results.Problem(detail: "The platform database does not answer.", statusCode: 503, title: "Not Ready");
            }
        }).ExcludeFromDescription();
        app.MapOpenApi("/openapi/{documentName}.json");

        app.MapRelayManagementApi(o =>
        {
            o.AuthorizationPolicy = PlatformExtensions.OperatorPolicy;
            o.CanReadSecrets = context => context.GetCaller().IsOperator;
        });
        var api = app.MapCausewayApi().WithMetadata(new BodySizeLimit(settings.Server.MaxApiBodyBytes));
        api.MapTenancyApi();
        api.MapEnvironmentsApi();
        app.MapGatewayApi(api);
        api.MapConnectorsApi();
        app.MapApiManagement();
        api.MapTablesApi();
        app.MapDataApi();
        api.MapNetworkPlanApi();
        api.MapDesktopFlowsApi();
    }

    /// <summary>Binds and validates every setting; throws one exception listing all that are wrong.</summary>
    internal static ServerSettings ReadSettings(IConfiguration configuration)
    {
        var problems = new List<string>();
        var server = Bind<ServerOptions>(configuration, "Server", problems);
        var platform = new PlatformOptions
        {
            DataDirectory = Path.GetFullPath(configuration["Server:DataDirectory"] ?? ".causeway"),
            DatabaseProvider = configuration["Database:Provider"] ?? "sqlite",
            ConnectionString = configuration["Database:ConnectionString"],
        };
        var topologyOptions = Bind<TopologyOptions>(configuration, "Topology", problems);
        var environmentDatabases = Bind<EnvironmentDatabaseOptions>(configuration, "EnvironmentDatabases", problems);
        var telemetry = Bind<TelemetryOptions>(configuration, "Telemetry", problems);
        var relay = Bind<RelaySettings>(configuration, "Relay", problems);

        if (server.Port is < 0 or > 65535)
        {
            problems.Add($"Server:Port (--port) must be between 0 and 65535 (it is {server.Port}).");
        }

        if (server.RelayPort is < 0 or > 65535 || (server.RelayPort == server.Port && server.Port != 0))
        {
            problems.Add($"Server:RelayPort must be between 0 and 65535 and differ from Server:Port (it is {server.RelayPort}).");
        }

        if (server.ListenAddress is not ("localhost" or "any") && !IPAddress.TryParse(server.ListenAddress, out _))
        {
            problems.Add($"Server:ListenAddress must be 'localhost', 'any' or an IP address (it is '{server.ListenAddress}').");
        }

        if (server.CertificatePath is { } certificatePath && !File.Exists(certificatePath))
        {
            problems.Add($"Server:CertificatePath names '{certificatePath}', which does not exist.");
        }

        if (server.MaxApiBodyBytes < 1024)
        {
            problems.Add($"Server:MaxApiBodyBytes must be at least 1024 (it is {server.MaxApiBodyBytes}).");
        }

        if (telemetry.OtlpEndpoint is { Length: > 0 } otlp && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
        {
            problems.Add($"Telemetry:OtlpEndpoint must be an absolute URL such as http://127.0.0.1:4317 (it is '{otlp}').");
        }

        problems.AddRange(platform.Validate());

        // Sections the components bind themselves: checked here too, so that every wrong setting is one line at start-up.
        problems.AddRange(Bind<GatewayOptions>(configuration, "Gateway", problems).Validate());
        problems.AddRange(Bind<ApiManagementOptions>(configuration, ApiManagementOptions.Section, problems).Validate());
        problems.AddRange(Bind<DesktopRunOptions>(configuration, "DesktopFlows", problems).Validate());
        DeploymentTopology? topology = null;
        try
        {
            topology = DeploymentTopology.Create(TopologyCatalog.Default, topologyOptions.Geographies, topologyOptions.ScaleGroups, topologyOptions.DefaultCapacity);
            problems.AddRange(environmentDatabases.Validate(topology));
        }
        catch (TopologyConfigurationException e)
        {
            problems.Add(e.Message);
        }

        if (problems.Count > 0)
        {
            throw new StartupException(problems);
        }

        return new ServerSettings(server, platform, topologyOptions, topology!, environmentDatabases, telemetry, relay);
    }

    private static T Bind<T>(IConfiguration configuration, string section, List<string> problems)
        where T : new()
    {
        var value = new T();
        try
        {
            configuration.GetSection(section).Bind(value);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value it could not convert.
            problems.Add($"{section}: {e.Message}");
        }

        return value;
    }

    private static (string? DataDir, string? Port) ParseArguments(string[] args)
    {
        string? dataDir = null, port = null;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], i + 1 < args.Length ? args[++i] : null);
            if (!KnownSwitches.Contains(name))
            {
                throw new StartupException([$"unknown argument '{name}'. Options: --data-dir DIR, --port N."]);
            }

            if (string.IsNullOrEmpty(value))
            {
                throw new StartupException([$"{name} needs a value."]);
            }

            if (name == "--data-dir")
            {
                dataDir = value;
            }
            else if (!int.TryParse(value, out _))
            {
                throw new StartupException([$"--port must be a number (it is '{value}')."]);
            }
            else
            {
                port = value;
            }
        }

        return (dataDir, port);
    }

    private static X509Certificate2 LoadOrCreateCertificate(ServerSettings settings)
    {
        var dir = settings.Platform.DataDirectory;
        var pemPath = Path.Combine(dir, "certificate.pem");
        X509Certificate2 certificate;
        if (settings.Server.CertificatePath is { } path)
        {
            try
            {
                certificate = CertificateFactory.Load(path, settings.Server.CertificatePassword, settings.Server.CertificateKeyPath);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException)
            {
                throw new StartupException([$"Server:CertificatePath '{path}' could not be loaded: {e.Message}"]);
            }
        }
        else
        {
            var pfxPath = Path.Combine(dir, "certificate.pfx");
            if (File.Exists(pfxPath))
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, null);
            }
            else
            {
                certificate = CertificateFactory.CreateSelfSigned();
                SecretFile.WriteBytes(pfxPath, certificate.Export(X509ContentType.Pfx));
            }
        }

        File.WriteAllText(pemPath, CertificateFactory.ToPem(certificate));
        return certificate;
    }

    /// <summary>The listen options of the two ports; Kestrel fills in the bound port.</summary>
    internal sealed class BoundEndpoints
    {
        public Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? Api { get; set; }

        public Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? Relay { get; set; }

        public int ApiPort => Api?.IPEndPoint?.Port ?? 0;

        public int RelayPort => Relay?.IPEndPoint?.Port ?? -1;
    }

    private sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}
