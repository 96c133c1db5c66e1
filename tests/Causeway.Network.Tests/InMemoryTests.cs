namespace Causeway.Network.Tests;

/// <summary>The server fills the inventory from its own state; the planner takes it as it comes.</summary>
public sealed class InMemoryTests
{
    [Fact]
    public void Plan_InventoryBuiltInMemory_PlansLikeTheFile()
    {
        var inventory = new Inventory(
            [new PlatformEnvironment("env1", "europe", "production", Cdn: false)],
            [new GatewayCluster("gw", "europe", [new GatewayMember("gw1", "hq")])],
            [new DesktopMachine("m1", "env1", "hq")],
            [new Connection("env1", "shared_sql", ThirdParty: false, Gateway: "gw")],
            [new App("a", "env1", AppKind.ModelDriven)]);
        var network = TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\", \"12076:51003\""));

        var plan = Planner.Plan(network, inventory);

        Assert.All(plan.Flows.Where(f => f.Kind is FlowKind.Users or FlowKind.Gateway or FlowKind.Machine), f => Assert.Equal(FlowPath.ExpressRoute, f.Path));
        Assert.DoesNotContain(plan.Findings, f => f.Severity == Severity.Error);
        Assert.False(plan.HasErrors);
    }

    [Fact]
    public void Plan_EmptyInventory_OnlySignIn()
    {
        var plan = Planner.Plan(TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\"")), Inventory.Empty);

        Assert.Equal(FlowKind.SignIn, Assert.Single(plan.Flows).Kind);
        Assert.Empty(plan.Artifacts.RouteFilters);
    }

    [Fact]
    public void Plan_GatewayRegionGivenAsDatacenter_UsesThatDatacentersBus()
    {
        var inventory = TestNetworks.Inventory("""
            environments: [{name: env1, geography: europe}]
            gateways: [{name: gw, region: northeurope, members: [{name: gw1, site: hq}]}]
            """);

        var plan = Planner.Plan(TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\", \"12076:51003\"")), inventory);

        var gateway = plan.Flows.Single(f => f.Kind == FlowKind.Gateway);
        Assert.Equal("northeurope", gateway.Datacenter);
        Assert.Equal("12076:51003", gateway.Community);
    }

    [Fact]
    public void Plan_SameInputs_SameJson()
    {
        var network = TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\""));
        var inventory = TestNetworks.Inventory(TestNetworks.OneEnvironment());

        Assert.Equal(PlanRenderer.ToString(Planner.Plan(network, inventory), PlanFormat.Json), PlanRenderer.ToString(Planner.Plan(network, inventory), PlanFormat.Json));
    }
}
