using System.Text.Json;

namespace Causeway.Network.Tests;

/// <summary>The commented examples in docs/ load, plan and show what docs/network-planning.md says they show.</summary>
public sealed class ExampleTests
{
    private static PlanResult Example() =>
        Planner.Plan(NetworkDocument.Load(TestNetworks.ExamplePath("network.yaml")), Inventory.Load(TestNetworks.ExamplePath("inventory.yaml")));

    [Fact]
    public void Example_Plan_FindsTheMissingNorthEuropeCommunityAndTheLocalSku()
    {
        var plan = Example();

        var missing = Assert.Single(plan.Findings, f => f.Code == FindingCodes.MissingCommunity);
        Assert.Equal(["12076:51003"], missing.Communities);
        Assert.Contains("circuit:er-ams", missing.Objects);
        var sku = Assert.Single(plan.Findings, f => f.Code == FindingCodes.SkuReach);
        Assert.Contains("circuit:er-dub", sku.Objects);
        Assert.Equal(["12076:51002"], sku.Communities);
        Assert.Contains(plan.Findings, f => f.Code == FindingCodes.CanvasCdnWithoutBreakout && f.Objects.Contains("environment:contoso-prod"));
        Assert.DoesNotContain(plan.Findings, f => f.Code == FindingCodes.CanvasCdnWithoutBreakout && f.Objects.Contains("environment:contoso-test"));
    }

    [Fact]
    public void Example_FixedFilter_PlansClean()
    {
        var network = NetworkDocument.Load(TestNetworks.ExamplePath("network.yaml"));
        var inventory = Inventory.Load(TestNetworks.ExamplePath("inventory.yaml"));
        var fixedFilters = Planner.Plan(network, inventory).Artifacts.RouteFilters.ToDictionary(f => f.Circuit);
        var repaired = network with
        {
            Circuits = network.Circuits.Select(c => c with
            {
                Sku = CircuitSku.Standard,
                MicrosoftPeering = c.MicrosoftPeering! with
                {
                    RouteFilter = new RouteFilter(fixedFilters[c.Name].RouteFilter, [new RouteFilterRule(RouteFilterAccess.Allow, fixedFilters[c.Name].Communities)]),
                },
            }).ToArray(),
        };

        var plan = Planner.Plan(repaired, inventory);

        Assert.DoesNotContain(plan.Findings, f => f.Code is FindingCodes.MissingCommunity or FindingCodes.SkuReach);
        Assert.All(plan.Flows.Where(f => f.Kind is FlowKind.Users or FlowKind.Gateway or FlowKind.Machine), f => Assert.Equal(FlowPath.ExpressRoute, f.Path));
    }

    [Fact]
    public void Example_Flows_CoverEveryKind()
    {
        var kinds = Example().Flows.Select(f => f.Kind).ToHashSet();

        Assert.Equal(Enum.GetValues<FlowKind>().ToHashSet(), kinds);
    }

    [Fact]
    public void Schema_PublishesEveryPropertyTheReaderAccepts()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "network.schema.json")));
        var defs = schema.RootElement.GetProperty("$defs");
        string[] Props(string def) => defs.GetProperty(def).GetProperty("properties").EnumerateObject().Select(p => p.Name).Order().ToArray();

        Assert.Equal(["internetBreakout", "name", "publicPrefixes", "traffic"], Props("site"));
        Assert.Equal(["bandwidthMbps", "cloud", "microsoftPeering", "name", "peeringLocation", "provider", "region", "resourceGroup", "site", "sku"], Props("circuit"));
        Assert.Equal(["advertisedPublicPrefixes", "customerAsn", "primaryPeerAddressPrefix", "routeFilter", "secondaryPeerAddressPrefix", "vlanId"], Props("microsoftPeering"));
        Assert.Equal(["apps", "connections", "endpoints", "environments", "gateways", "machines"], Props("inventory").Where(p => p != "$schema"));
    }
}
