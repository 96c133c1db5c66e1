using Causeway.Topology;

namespace Causeway.Network;

/// <summary>The two kinds of app; only canvas apps load static content from the CDN.</summary>
public enum AppKind
{
    /// <summary>Canvas app: uses the CDN unless the environment turns it off.</summary>
    Canvas,

    /// <summary>Model-driven app: never uses the CDN.</summary>
    ModelDriven,
}

/// <summary>A platform environment.</summary>
/// <param name="Name">Unique environment name.</param>
/// <param name="Geography">Geography id from the topology catalog (for example <c>europe</c>).</param>
/// <param name="Type">production, sandbox, trial, developer or default.</param>
/// <param name="Cdn">The "Load default static content from Content Delivery Network" setting.</param>
public sealed record PlatformEnvironment(string Name, string Geography, string Type, bool Cdn)
{
    /// <summary>The datacenter that serves it; the geography's first datacenter when not given.</summary>
    public string? PrimaryDatacenter { get; init; }

    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>A member of a gateway cluster and the site it runs at.</summary>
public sealed record GatewayMember(string Name, string Site)
{
    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>An on-premises data gateway cluster; it connects to the bus of one region.</summary>
/// <param name="Name">Unique cluster name.</param>
/// <param name="Region">Geography id (or an Azure region of one) whose bus the cluster uses.</param>
/// <param name="Members">Members and their sites.</param>
public sealed record GatewayCluster(string Name, string Region, IReadOnlyList<GatewayMember> Members)
{
    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>A desktop machine registered to an environment, running at a site.</summary>
public sealed record DesktopMachine(string Name, string Environment, string Site)
{
    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>A connection of an environment.</summary>
/// <param name="Environment">Environment name.</param>
/// <param name="Connector">Connector name (for example <c>shared_sql</c>).</param>
/// <param name="ThirdParty">True when the connector's backend is not a Microsoft service.</param>
/// <param name="Gateway">Gateway cluster it uses, or null.</param>
public sealed record Connection(string Environment, string Connector, bool ThirdParty, string? Gateway)
{
    /// <summary>True when the data source is on premises (a gateway is then required, ExpressRoute or not).</summary>
    public bool OnPremises { get; init; }

    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>An app of an environment.</summary>
public sealed record App(string Name, string Environment, AppKind Kind)
{
    /// <summary>Where it is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>
/// The platform's own endpoints in one datacenter. A running server supplies its real hosts; offline, the planner uses the
/// public platform's host patterns from its data file.
/// </summary>
public sealed record PlatformEndpoints(string Datacenter)
{
    /// <summary>Environment web/API host.</summary>
    public string? Api { get; init; }

    /// <summary>Relay host desktop machines listen on.</summary>
    public string? Relay { get; init; }

    /// <summary>Bus host gateway members connect to.</summary>
    public string? Bus { get; init; }

    /// <summary>Static content (CDN) host.</summary>
    public string? StaticContent { get; init; }
}

/// <summary>
/// The platform inventory the planner checks the network against: read from a file offline, or filled in memory by a running
/// server from its own state. Immutable; safe to share between threads.
/// </summary>
public sealed record Inventory(
    IReadOnlyList<PlatformEnvironment> Environments,
    IReadOnlyList<GatewayCluster> Gateways,
    IReadOnlyList<DesktopMachine> Machines,
    IReadOnlyList<Connection> Connections,
    IReadOnlyList<App> Apps)
{
    /// <summary>Environment types the platform knows.</summary>
    public static readonly IReadOnlyList<string> EnvironmentTypes = ["production", "sandbox", "trial", "developer", "default"];

    /// <summary>An inventory with nothing in it.</summary>
    public static Inventory Empty { get; } = new([], [], [], [], []);

    /// <summary>Platform endpoints per datacenter; datacenters not listed use the public platform's host patterns.</summary>
    public IReadOnlyList<PlatformEndpoints> Endpoints { get; init; } = [];

    /// <summary>Reads an inventory file; YAML unless the extension is <c>.json</c>.</summary>
    /// <exception cref="NetworkFileException">The file is malformed, does not match the schema or refers to unknown names.</exception>
    public static Inventory Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path), SourceNode.FormatOf(path), Path.GetFileName(path));
    }

    /// <summary>Parses inventory text.</summary>
    /// <exception cref="NetworkFileException">The text is malformed, does not match the schema or refers to unknown names.</exception>
    public static Inventory Parse(string text, DocumentFormat format, string fileName = "inventory")
    {
        ArgumentNullException.ThrowIfNull(text);
        var inventory = DocumentReader.ReadInventory(SourceNode.Parse(text, format, fileName));
        inventory.Validate(TopologyCatalog.Default);
        return inventory;
    }

    /// <summary>Checks names, geographies and references inside the inventory (site references are checked by the planner).</summary>
    /// <exception cref="NetworkFileException">The first problem found, with its position when known.</exception>
    public void Validate(TopologyCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var environments = new Dictionary<string, PlatformEnvironment>(StringComparer.Ordinal);
        foreach (var environment in Environments)
        {
            if (!environments.TryAdd(environment.Name, environment))
            {
                throw new NetworkFileException($"environment '{environment.Name}' is declared twice", environment.Position);
            }

            var geography = catalog.Find(environment.Geography) ?? throw new NetworkFileException(
                $"environment '{environment.Name}' has unknown geography '{environment.Geography}' (known: {string.Join(", ", catalog.Geographies.Select(g => g.Id))})",
                environment.Position);
            if (!geography.HasPair)
            {
                throw new NetworkFileException(
                    $"environment '{environment.Name}' is in geography '{geography.Id}', whose datacenter pair is not documented (UNVERIFIED); it cannot host environments",
                    environment.Position);
            }

            if (!EnvironmentTypes.Contains(environment.Type, StringComparer.OrdinalIgnoreCase))
            {
                throw new NetworkFileException(
                    $"environment '{environment.Name}' has type '{environment.Type}'; expected one of {string.Join(", ", EnvironmentTypes)}", environment.Position);
            }

            if (environment.PrimaryDatacenter is { } primary
                && !geography.Datacenters.Any(d => string.Equals(d.Id, primary, StringComparison.OrdinalIgnoreCase)))
            {
                throw new NetworkFileException(
                    $"environment '{environment.Name}' has primary datacenter '{primary}', which is not one of {geography.Id}'s ({string.Join(", ", geography.Datacenters.Select(d => d.Id))})",
                    environment.Position);
            }
        }

        var gateways = new HashSet<string>(StringComparer.Ordinal);
        foreach (var gateway in Gateways)
        {
            if (!gateways.Add(gateway.Name))
            {
                throw new NetworkFileException($"gateway cluster '{gateway.Name}' is declared twice", gateway.Position);
            }

            if (GeographyResolver.Resolve(catalog, gateway.Region) is null)
            {
                throw new NetworkFileException(
                    $"gateway cluster '{gateway.Name}' has unknown region '{gateway.Region}' (a geography id such as europe, or one of its Azure regions)",
                    gateway.Position);
            }
        }

        foreach (var machine in Machines)
        {
            RequireEnvironment(environments, machine.Environment, $"machine '{machine.Name}'", machine.Position);
        }

        foreach (var connection in Connections)
        {
            RequireEnvironment(environments, connection.Environment, $"connection '{connection.Connector}'", connection.Position);
            if (connection.Gateway is { } gateway && !gateways.Contains(gateway))
            {
                throw new NetworkFileException(
                    $"connection '{connection.Connector}' of '{connection.Environment}' refers to unknown gateway cluster '{gateway}'", connection.Position);
            }
        }

        foreach (var app in Apps)
        {
            RequireEnvironment(environments, app.Environment, $"app '{app.Name}'", app.Position);
        }

        foreach (var endpoints in Endpoints)
        {
            if (catalog.FindDatacenter(endpoints.Datacenter) is null)
            {
                throw new NetworkFileException($"endpoints are given for unknown datacenter '{endpoints.Datacenter}'", null);
            }
        }
    }

    private static void RequireEnvironment(Dictionary<string, PlatformEnvironment> environments, string name, string what, SourcePosition? position)
    {
        if (!environments.ContainsKey(name))
        {
            throw new NetworkFileException($"{what} refers to unknown environment '{name}'", position);
        }
    }
}

/// <summary>Gateway regions may be written as a geography id or as one of its Azure regions.</summary>
internal static class GeographyResolver
{
    public static Geography? Resolve(TopologyCatalog catalog, string region) =>
        catalog.Find(region) is { HasPair: true } geography ? geography : catalog.GeographiesOf(region).FirstOrDefault(g => g.HasPair);
}
