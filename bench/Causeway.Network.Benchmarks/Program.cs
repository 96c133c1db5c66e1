using System.Diagnostics;
using System.Globalization;
using Causeway.Network;
using Causeway.Topology;

// Plans a synthetic estate at 1x (10,000 environments, 1,000 sites, 100 circuits, 5,000 machines) and at 10x, and prints
// one line per scenario: the median time of each size and the 10x/1x ratio (about 10 means linear growth).
// Usage: dotnet run -c Release --project bench/Causeway.Network.Benchmarks [-- --quick]
var quick = args.Contains("--quick");
var runs = quick ? 1 : 3;

var small = Estate.Build(1);
var large = Estate.Build(10);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"estate 1x: {small.Inventory.Environments.Count} environments, {small.Network.Sites.Count} sites, {small.Network.Circuits.Count} circuits, {small.Inventory.Machines.Count} machines; 10x: {large.Inventory.Environments.Count}/{large.Network.Sites.Count}/{large.Network.Circuits.Count}/{large.Inventory.Machines.Count}"));

if (args.Contains("--phases"))
{
    Phases(small);
    return;
}

Scenario("plan", e => Planner.Plan(e.Network, e.Inventory));
Scenario("plan, fail datacenter westeurope", e => Planner.Plan(e.Network, e.Inventory, WhatIf.Datacenter("westeurope")));
Scenario("plan, fail circuit er-0", e => Planner.Plan(e.Network, e.Inventory, WhatIf.Circuit("er-0")));
Scenario("plan + json output", e => PlanRenderer.ToString(Planner.Plan(e.Network, e.Inventory), PlanFormat.Json));

// Where the time of one plan goes (1x), to find what to optimise.
void Phases(Estate e)
{
    for (var round = 0; round < 3; round++)
    {
        var watch = Stopwatch.StartNew();
        e.Network.Validate();
        var validateNetwork = watch.Elapsed.TotalMilliseconds;
        e.Inventory.Validate(TopologyCatalog.Default);
        var validateInventory = watch.Elapsed.TotalMilliseconds;
        var model = new PlanModel(e.Network, e.Inventory, TopologyCatalog.Default, NetworkFacts.Default);
        var index = watch.Elapsed.TotalMilliseconds;
        var flows = new FlowBuilder(model, WhatIf.None).Build();
        var flowTime = watch.Elapsed.TotalMilliseconds;
        var findings = new FindingBuilder(model, flows).Build();
        var findingTime = watch.Elapsed.TotalMilliseconds;
        var artifacts = ArtifactBuilder.Build(model);
        var artifactTime = watch.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validate network {validateNetwork:F1}  inventory {validateInventory - validateNetwork:F1}  index {index - validateInventory:F1}  flows {flowTime - index:F1} ({flows.Count})  findings {findingTime - flowTime:F1} ({findings.Count})  artifacts {artifactTime - findingTime:F1} ({artifacts.Firewall.Count} firewall rules) ms"));
    }
}

void Scenario(string name, Func<Estate, object> run)
{
    var one = Measure(() => run(small));
    var ten = Measure(() => run(large));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-34} 1x: {one.Wall,7:F0} ms wall {one.Cpu,6:F0} ms cpu   10x: {ten.Wall,7:F0} ms wall {ten.Cpu,6:F0} ms cpu   10x/1x: {ten.Wall / one.Wall,4:F1} wall {ten.Cpu / one.Cpu,4:F1} cpu"));
}

// Median wall-clock and CPU time. The machine is shared, so CPU time (this process only; garbage collection runs on the
// same thread, see the project file) is the figure that does not depend on what else runs.
(double Wall, double Cpu) Measure(Func<object> action)
{
    // Warm-up: JIT, tiered compilation and the lazily loaded catalogs.
    action();
    action();
    var walls = new List<double>();
    var cpus = new List<double>();
    using var process = Process.GetCurrentProcess();
    for (var i = 0; i < runs; i++)
    {
        GC.Collect();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        GC.KeepAlive(action());
        walls.Add(watch.Elapsed.TotalMilliseconds);
        process.Refresh();
        cpus.Add((process.TotalProcessorTime - cpu).TotalMilliseconds);
    }

    walls.Sort();
    cpus.Sort();
    return (walls[walls.Count / 2], cpus[cpus.Count / 2]);
}

internal sealed record Estate(NetworkDocument Network, Inventory Inventory)
{
    public static Estate Build(int scale)
    {
        var catalog = TopologyCatalog.Default;
        var geographies = catalog.Geographies.Where(g => g.HasPair && !g.Sovereign).ToArray();
        var siteCount = 1_000 * scale;
        var sites = new List<Site>(siteCount);
        for (var i = 0; i < siteCount; i++)
        {
            // Distinct public /29s from 100.64.0.0 upwards (not RFC 1918, not overlapping).
            var block = (uint)(0x64400000 + (i * 8));
            sites.Add(new Site($"site-{i}", [TrafficKind.Users, TrafficKind.Gateways, TrafficKind.Machines], [Prefix(block, 29)], i % 3 != 0));
        }

        var communities = geographies.Take(6).SelectMany(g => g.BgpCommunities).ToArray();
        var circuits = Enumerable.Range(0, 100 * scale).Select(i => new Circuit(
            $"er-{i}", $"site-{i * 10 % siteCount}", i % 2 == 0 ? "Amsterdam" : "Washington DC", i % 2 == 0 ? "westeurope" : "eastus",
            i % 5 == 0 ? CircuitSku.Premium : CircuitSku.Standard, 1000,
            new MicrosoftPeering(65000 + i, [Prefix((uint)(0x64400000 + (i * 10 % siteCount * 8)), 29)],
                new RouteFilter($"rf-{i}", [new RouteFilterRule(RouteFilterAccess.Allow, communities.Skip(i % 3).ToArray())])))).ToArray();

        var environments = Enumerable.Range(0, 10_000 * scale)
            .Select(i => new PlatformEnvironment($"env-{i}", geographies[i % geographies.Length].Id, i % 4 == 0 ? "sandbox" : "production", i % 2 == 0)).ToArray();
        var gateways = Enumerable.Range(0, 200 * scale).Select(i => new GatewayCluster(
            $"gw-{i}", geographies[i % geographies.Length].Id,
            [new GatewayMember($"gw-{i}-a", $"site-{i % siteCount}"), new GatewayMember($"gw-{i}-b", $"site-{(i + 1) % siteCount}")])).ToArray();
        var machines = Enumerable.Range(0, 5_000 * scale).Select(i => new DesktopMachine($"m-{i}", $"env-{i}", $"site-{i % siteCount}")).ToArray();
        var connections = Enumerable.Range(0, 10_000 * scale).Select(i => new Connection(
            $"env-{i}", i % 3 == 0 ? "shared_salesforce" : "shared_sql", i % 3 == 0, i % 3 == 1 ? $"gw-{i % gateways.Length}" : null)).ToArray();
        var apps = Enumerable.Range(0, 10_000 * scale).Select(i => new App($"app-{i}", $"env-{i}", i % 2 == 0 ? AppKind.Canvas : AppKind.ModelDriven)).ToArray();
        return new Estate(new NetworkDocument(sites, circuits), new Inventory(environments, gateways, machines, connections, apps));
    }

    private static string Prefix(uint network, int length) =>
        $"{network >> 24}.{(network >> 16) & 0xFF}.{(network >> 8) & 0xFF}.{network & 0xFF}/{length}";
}
