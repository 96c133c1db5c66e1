namespace Causeway.Topology;

/// <summary>A scale group as a deployment declares it (configuration shape).</summary>
public sealed class ScaleGroupSettings
{
    /// <summary>Unique name across the deployment.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>canary</c>, <c>sandbox</c> or <c>production</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>How many environments it may host; at least 1.</summary>
    public int Capacity { get; set; } = DeploymentTopology.DefaultCapacity;
}

/// <summary>Thrown when a deployment's topology settings are wrong; the message names the setting.</summary>
public sealed class TopologyConfigurationException(string message) : Exception(message);

/// <summary>
/// What this deployment runs: the geographies it serves and, in each of their datacenters, its scale groups.
/// Built once at start-up and immutable afterwards.
/// </summary>
public sealed class DeploymentTopology
{
    /// <summary>Capacity of a default scale group.</summary>
    public const int DefaultCapacity = 100;

    /// <summary>The geographies served when the configuration names none.</summary>
    public static readonly IReadOnlyList<string> DefaultGeographies =
        ["unitedstates", "europe", "unitedkingdom", "asia", "australia", "japan", "india", "canada"];

    private readonly Dictionary<string, ScaleGroup[]> _groupsByDatacenter;

    private DeploymentTopology(TopologyCatalog catalog, IReadOnlyList<Geography> geographies, Dictionary<string, ScaleGroup[]> groups)
    {
        Catalog = catalog;
        Geographies = geographies;
        _groupsByDatacenter = groups;
        Datacenters = geographies.SelectMany(g => g.Datacenters).DistinctBy(d => d.Id).ToArray();
        ScaleGroups = Datacenters.SelectMany(d => groups[d.Id]).ToArray();
    }

    /// <summary>The catalog the deployment was built from.</summary>
    public TopologyCatalog Catalog { get; }

    /// <summary>Served geographies, in configured order.</summary>
    public IReadOnlyList<Geography> Geographies { get; }

    /// <summary>Every datacenter of the served geographies, once each.</summary>
    public IReadOnlyList<Datacenter> Datacenters { get; }

    /// <summary>Every scale group of the deployment.</summary>
    public IReadOnlyList<ScaleGroup> ScaleGroups { get; }

    /// <summary>The served geography with that id, or null when the catalog lacks it or this deployment does not serve it.</summary>
    public Geography? FindServed(string id) => Geographies.FirstOrDefault(g => string.Equals(g.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>The scale groups of a served datacenter, in declared order; empty for any other.</summary>
    public IReadOnlyList<ScaleGroup> ScaleGroupsIn(string datacenterId) =>
        _groupsByDatacenter.TryGetValue(datacenterId, out var groups) ? groups : [];

    /// <summary>Finds a scale group by name.</summary>
    public ScaleGroup? FindScaleGroup(string name) => ScaleGroups.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// Validates the settings and builds the topology. Datacenters without declared scale groups get the defaults:
    /// one canary, one sandbox and two production groups, each of <paramref name="defaultCapacity"/>.
    /// </summary>
    /// <exception cref="TopologyConfigurationException">A setting is wrong; the message names it and says what would fix it.</exception>
    public static DeploymentTopology Create(
        TopologyCatalog catalog,
        IReadOnlyList<string>? geographies = null,
        IReadOnlyDictionary<string, List<ScaleGroupSettings>>? scaleGroups = null,
        int defaultCapacity = DefaultCapacity,
        string settingPrefix = "Topology")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (defaultCapacity < 1)
        {
            throw new TopologyConfigurationException($"{settingPrefix}:DefaultCapacity must be at least 1 (it is {defaultCapacity}).");
        }

        var ids = geographies is { Count: > 0 } ? geographies : DefaultGeographies;
        var served = new List<Geography>();
        for (var i = 0; i < ids.Count; i++)
        {
            var geography = catalog.Find(ids[i]) ?? throw new TopologyConfigurationException(
                $"{settingPrefix}:Geographies:{i} is '{ids[i]}', which is not a known geography. Known: {string.Join(", ", catalog.Geographies.Select(g => g.Id))}.");
            if (!geography.HasPair)
            {
                throw new TopologyConfigurationException(
                    $"{settingPrefix}:Geographies:{i} is '{geography.Id}', whose datacenter pair is not documented (UNVERIFIED); an environment needs both datacenters of a pair.");
            }

            if (served.Any(g => g.Id == geography.Id))
            {
                throw new TopologyConfigurationException($"{settingPrefix}:Geographies:{i} names '{geography.Id}' twice.");
            }

            served.Add(geography);
        }

        var datacenterIds = served.SelectMany(g => g.Datacenters).Select(d => d.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var groups = new Dictionary<string, ScaleGroup[]>(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (datacenter, declared) in scaleGroups ?? new Dictionary<string, List<ScaleGroupSettings>>())
        {
            if (!datacenterIds.Contains(datacenter))
            {
                throw new TopologyConfigurationException(
                    $"{settingPrefix}:ScaleGroups:{datacenter} names a datacenter of no served geography. Served datacenters: {string.Join(", ", datacenterIds.Order())}.");
            }

            var list = new List<ScaleGroup>();
            for (var i = 0; i < declared.Count; i++)
            {
                var setting = $"{settingPrefix}:ScaleGroups:{datacenter}:{i}";
                var s = declared[i];
                if (string.IsNullOrWhiteSpace(s.Name) || s.Name.Length > 63 || !s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    throw new TopologyConfigurationException($"{setting}:Name must be 1-63 letters, digits or '-' (it is '{s.Name}').");
                }

                if (!TopologyNames.TryParseKind(s.Kind, out var kind))
                {
                    throw new TopologyConfigurationException($"{setting}:Kind must be canary, sandbox or production (it is '{s.Kind}').");
                }

                if (s.Capacity < 1)
                {
                    throw new TopologyConfigurationException($"{setting}:Capacity must be at least 1 (it is {s.Capacity}).");
                }

                if (!names.Add(s.Name))
                {
                    throw new TopologyConfigurationException($"{setting}:Name '{s.Name}' is used by another scale group; names are unique across the deployment.");
                }

                list.Add(new ScaleGroup(s.Name, datacenter.ToLowerInvariant(), kind, s.Capacity));
            }

            groups[datacenter] = [.. list];
        }

        foreach (var datacenter in datacenterIds)
        {
            if (groups.ContainsKey(datacenter))
            {
                continue;
            }

            ScaleGroup[] defaults =
            [
                new($"{datacenter}-canary-1", datacenter, ScaleGroupKind.Canary, defaultCapacity),
                new($"{datacenter}-sandbox-1", datacenter, ScaleGroupKind.Sandbox, defaultCapacity),
                new($"{datacenter}-prod-1", datacenter, ScaleGroupKind.Production, defaultCapacity),
                new($"{datacenter}-prod-2", datacenter, ScaleGroupKind.Production, defaultCapacity),
            ];
            foreach (var d in defaults)
            {
                if (!names.Add(d.Name))
                {
                    throw new TopologyConfigurationException($"{settingPrefix}:ScaleGroups declares '{d.Name}', the name of a default scale group of {datacenter}; choose another name.");
                }
            }

            groups[datacenter] = defaults;
        }

        return new DeploymentTopology(catalog, served, groups);
    }
}
