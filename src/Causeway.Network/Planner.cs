using Causeway.Topology;

namespace Causeway.Network;

/// <summary>
/// Plans a network against the platform inventory: the path of every flow, the findings and the artifacts that fix them.
/// Pure and deterministic: the same inputs always give the same result. Thread-safe (no shared state).
/// </summary>
public static class Planner
{
    private const string EntraCommunity = "12076:5060";

    /// <summary>Plans with the shipped topology catalog.</summary>
    /// <param name="network">The network; validated first.</param>
    /// <param name="inventory">The platform inventory; validated first, and its site references checked against the network.</param>
    /// <param name="whatIf">Failures to simulate; null for none.</param>
    /// <exception cref="NetworkFileException">The inputs are invalid or refer to unknown sites.</exception>
    /// <exception cref="ArgumentException">The what-if names an unknown datacenter or circuit.</exception>
    public static PlanResult Plan(NetworkDocument network, Inventory inventory, WhatIf? whatIf = null) =>
        Plan(network, inventory, whatIf, TopologyCatalog.Default);

    /// <summary>Plans with the given topology catalog.</summary>
    /// <inheritdoc cref="Plan(NetworkDocument, Inventory, WhatIf?)"/>
    public static PlanResult Plan(NetworkDocument network, Inventory inventory, WhatIf? whatIf, TopologyCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(catalog);
        network.Validate();
        inventory.Validate(catalog);
        whatIf ??= WhatIf.None;

        var model = new PlanModel(network, inventory, catalog, NetworkFacts.Default);
        model.CheckSiteReferences();
        model.CheckWhatIf(whatIf);

        var flows = new FlowBuilder(model, whatIf).Build();
        var findings = new FindingBuilder(model, flows).Build();
        var artifacts = ArtifactBuilder.Build(model);
        if (whatIf.IsEmpty)
        {
            return new PlanResult(flows, findings, artifacts);
        }

        var baseline = new FlowBuilder(model, WhatIf.None).Build();
        return new PlanResult(flows, findings, artifacts) { WhatIf = whatIf, Changes = Diff(baseline, flows) };
    }

    private static List<PathChange> Diff(IReadOnlyList<Flow> before, IReadOnlyList<Flow> after)
    {
        var byKey = before.ToDictionary(f => f.Key, StringComparer.Ordinal);
        var changes = new List<PathChange>();
        foreach (var flow in after)
        {
            if (byKey.TryGetValue(flow.Key, out var old)
                && (old.Path != flow.Path || old.Circuit != flow.Circuit || old.To != flow.To))
            {
                changes.Add(new PathChange(flow.From, old.To, flow.To, old.Path, flow.Path, old.Circuit, flow.Circuit, flow.Reason));
            }
        }

        return changes;
    }

    internal static string EntraId => EntraCommunity;
}

/// <summary>Environments of one geography that share a datacenter pair and order; flows are planned once per group.</summary>
internal sealed record EnvironmentGroup(Geography Geography, Datacenter Primary, Datacenter Secondary, List<PlatformEnvironment> Environments)
{
    public string[] Names { get; set; } = [];

    /// <summary>Environments with the CDN setting on and at least one canvas app.</summary>
    public List<string> CdnCanvas { get; } = [];
}

/// <summary>The inputs indexed once for the builders.</summary>
internal sealed class PlanModel
{
    private readonly Dictionary<(string Circuit, string Datacenter), string?> _reachCache = [];

    public PlanModel(NetworkDocument network, Inventory inventory, TopologyCatalog catalog, NetworkFacts facts)
    {
        Network = network;
        Inventory = inventory;
        Catalog = catalog;
        Facts = facts;
        Sites = network.Sites.ToDictionary(s => s.Name, StringComparer.Ordinal);
        CircuitsBySite = network.Sites.ToDictionary(s => s.Name, _ => new List<Circuit>(), StringComparer.Ordinal);
        foreach (var circuit in network.Circuits)
        {
            CircuitsBySite[circuit.Site].Add(circuit);
        }

        Allowed = network.Circuits.ToDictionary(
            c => c.Name,
            c => c.MicrosoftPeering?.RouteFilter?.AllowedCommunities.ToHashSet(StringComparer.Ordinal) ?? [],
            StringComparer.Ordinal);

        EnvironmentsByName = inventory.Environments.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var groups = new Dictionary<(string, string), EnvironmentGroup>();
        foreach (var environment in inventory.Environments)
        {
            var geography = catalog.Find(environment.Geography)!;
            var primaryIndex = environment.PrimaryDatacenter is { } p
                && string.Equals(geography.Datacenters[1].Id, p, StringComparison.OrdinalIgnoreCase) ? 1 : 0;
            var key = (geography.Id, geography.Datacenters[primaryIndex].Id);
            if (!groups.TryGetValue(key, out var group))
            {
                group = new EnvironmentGroup(geography, geography.Datacenters[primaryIndex], geography.Datacenters[1 - primaryIndex], []);
                groups.Add(key, group);
            }

            group.Environments.Add(environment);
            GroupOf[environment.Name] = group;
        }

        var canvasEnvironments = inventory.Apps.Where(a => a.Kind == AppKind.Canvas).Select(a => a.Environment).ToHashSet(StringComparer.Ordinal);
        foreach (var group in groups.Values)
        {
            group.Names = group.Environments.Select(e => e.Name).ToArray();
            group.CdnCanvas.AddRange(group.Environments.Where(e => e.Cdn && canvasEnvironments.Contains(e.Name)).Select(e => e.Name));
        }

        Groups = groups.Values.ToArray();
        CdnCanvasEnvironments = Groups.SelectMany(g => g.CdnCanvas).ToArray();
        GatewaysByName = inventory.Gateways.ToDictionary(g => g.Name, StringComparer.Ordinal);
        MembersBySite = inventory.Gateways.SelectMany(g => g.Members.Select(m => (Gateway: g, Member: m)))
            .GroupBy(x => x.Member.Site, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        MachinesBySite = inventory.Machines.GroupBy(m => m.Site, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        UserGeographies = Groups.Select(g => g.Geography).Distinct().ToArray();
    }

    public NetworkDocument Network { get; }

    public Inventory Inventory { get; }

    public TopologyCatalog Catalog { get; }

    public NetworkFacts Facts { get; }

    public Dictionary<string, Site> Sites { get; }

    public Dictionary<string, List<Circuit>> CircuitsBySite { get; }

    public Dictionary<string, HashSet<string>> Allowed { get; }

    public Dictionary<string, PlatformEnvironment> EnvironmentsByName { get; }

    public Dictionary<string, EnvironmentGroup> GroupOf { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<EnvironmentGroup> Groups { get; }

    /// <summary>Environments whose canvas apps load static content from the CDN (shared by every site's flow).</summary>
    public IReadOnlyList<string> CdnCanvasEnvironments { get; }

    public Dictionary<string, GatewayCluster> GatewaysByName { get; }

    public Dictionary<string, List<(GatewayCluster Gateway, GatewayMember Member)>> MembersBySite { get; }

    public Dictionary<string, List<DesktopMachine>> MachinesBySite { get; }

    /// <summary>Geographies users reach (every environment's).</summary>
    public IReadOnlyList<Geography> UserGeographies { get; }

    public void CheckSiteReferences()
    {
        foreach (var gateway in Inventory.Gateways)
        {
            foreach (var member in gateway.Members)
            {
                if (!Sites.ContainsKey(member.Site))
                {
                    throw new NetworkFileException(
                        $"gateway member '{member.Name}' of '{gateway.Name}' is at unknown site '{member.Site}' (the network declares: {string.Join(", ", Sites.Keys)})",
                        member.Position ?? gateway.Position);
                }
            }
        }

        foreach (var machine in Inventory.Machines)
        {
            if (!Sites.ContainsKey(machine.Site))
            {
                throw new NetworkFileException(
                    $"machine '{machine.Name}' is at unknown site '{machine.Site}' (the network declares: {string.Join(", ", Sites.Keys)})", machine.Position);
            }
        }
    }

    public void CheckWhatIf(WhatIf whatIf)
    {
        foreach (var id in whatIf.FailedDatacenters)
        {
            if (Catalog.FindDatacenter(id) is null)
            {
                throw new ArgumentException($"cannot fail datacenter '{id}': the catalog has no such datacenter", nameof(whatIf));
            }
        }

        foreach (var name in whatIf.FailedCircuits)
        {
            if (!Allowed.ContainsKey(name))
            {
                throw new ArgumentException(
                    $"cannot fail circuit '{name}': the network has no such circuit (known: {string.Join(", ", Allowed.Keys)})", nameof(whatIf));
            }
        }
    }

    /// <summary>The geography whose bus a gateway cluster uses, and the datacenter of that bus.</summary>
    public (Geography Geography, Datacenter Bus) BusOf(GatewayCluster gateway)
    {
        var geography = GeographyResolver.Resolve(Catalog, gateway.Region)!;
        var bus = geography.Datacenters.FirstOrDefault(d => string.Equals(d.Id, gateway.Region, StringComparison.OrdinalIgnoreCase))
            ?? geography.Datacenters[0];
        return (geography, bus);
    }

    /// <summary>Why the circuit's SKU or cloud cannot reach the datacenter; null when it can.</summary>
    public string? ReachProblem(Circuit circuit, Geography geography, Datacenter datacenter)
    {
        if (_reachCache.TryGetValue((circuit.Name, datacenter.Id), out var cached))
        {
            return cached;
        }

        var problem = ComputeReach(circuit, geography, datacenter);
        _reachCache[(circuit.Name, datacenter.Id)] = problem;
        return problem;
    }

    private string? ComputeReach(Circuit circuit, Geography geography, Datacenter datacenter)
    {
        var needsGov = geography.Sovereign;
        if (needsGov != (circuit.Cloud == AzureCloud.UsGov))
        {
            return needsGov
                ? $"{geography.Name} is a sovereign cloud; circuit {circuit.Name} is an Azure public cloud circuit"
                : $"circuit {circuit.Name} is an Azure Government circuit and cannot reach {datacenter.Id} in the public cloud";
        }

        switch (circuit.Sku)
        {
            case CircuitSku.Premium:
                return null;
            case CircuitSku.Local:
                var local = Facts.LocalRegionsOf(circuit.PeeringLocation);
                return local.Contains(datacenter.Id, StringComparer.OrdinalIgnoreCase)
                    ? null
                    : local.Count == 0
                        ? $"ExpressRoute Local is not offered at {circuit.PeeringLocation}"
                        : $"a Local circuit at {circuit.PeeringLocation} reaches only {string.Join(", ", local)}, not {datacenter.Id}";
            default:
                var area = AreaOf(circuit);
                var target = Facts.AreaOfRegion(datacenter.Id);
                return area is not null && target is not null && area.Id == target.Id
                    ? null
                    : $"a Standard circuit at {circuit.PeeringLocation} reaches the {area?.Name ?? "unknown"} geopolitical area only, and {datacenter.Id} is in {target?.Name ?? "no documented area"}";
        }
    }

    /// <summary>The geopolitical area of a circuit: its peering location's, or its region's when the location is unknown.</summary>
    public GeopoliticalArea? AreaOf(Circuit circuit) =>
        Facts.AreaOfLocation(circuit.Cloud, circuit.PeeringLocation)?.Area ?? Facts.AreaOfRegion(circuit.Region);

    /// <summary>Geographies whose regional communities a site's traffic needs (users: all; gateways: their region; machines: their environment's).</summary>
    public IReadOnlyList<Geography> GeographiesNeededBy(Site site)
    {
        var needed = new List<Geography>();
        if (site.Traffic.Contains(TrafficKind.Users))
        {
            needed.AddRange(UserGeographies);
        }

        foreach (var (gateway, _) in MembersBySite.GetValueOrDefault(site.Name) ?? [])
        {
            needed.Add(BusOf(gateway).Geography);
        }

        foreach (var machine in MachinesBySite.GetValueOrDefault(site.Name) ?? [])
        {
            needed.Add(GroupOf[machine.Environment].Geography);
        }

        // Catalog order keeps findings and artifacts deterministic.
        var set = needed.ToHashSet();
        return Catalog.Geographies.Where(set.Contains).ToArray();
    }

    public bool OriginatesTraffic(Site site) =>
        site.Traffic.Contains(TrafficKind.Users) || MembersBySite.ContainsKey(site.Name) || MachinesBySite.ContainsKey(site.Name);
}
