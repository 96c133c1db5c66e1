namespace Causeway.Network.Tests;

public sealed class WhatIfTests
{
    private const string TwoCircuits = """
        sites: [{name: hq, traffic: [users, gateways], publicPrefixes: [203.0.113.0/29], internetBreakout: false}]
        circuits:
          - name: er-ams
            site: hq
            peeringLocation: Amsterdam
            region: westeurope
            sku: Standard
            bandwidthMbps: 1000
            microsoftPeering:
              customerAsn: 65010
              advertisedPublicPrefixes: [203.0.113.0/29]
              routeFilter: {name: rf-ams, rules: [{access: Allow, communities: ["12076:51002", "12076:51003"]}]}
          - name: er-dub
            site: hq
            peeringLocation: Dublin
            region: northeurope
            sku: Standard
            bandwidthMbps: 1000
            microsoftPeering:
              customerAsn: 65010
              advertisedPublicPrefixes: [203.0.113.0/29]
              routeFilter: {name: rf-dub, rules: [{access: Allow, communities: ["12076:51002"]}]}
        """;

    private const string Inventory = """
        environments: [{name: env1, geography: europe, cdn: false}]
        gateways: [{name: gw, region: europe, members: [{name: gw1, site: hq}]}]
        connections: [{environment: env1, connector: shared_sql, gateway: gw}]
        """;

    [Fact]
    public void Plan_NoWhatIf_HasNoChanges()
    {
        var plan = TestNetworks.Plan(TwoCircuits, Inventory);

        Assert.Null(plan.Changes);
        Assert.Null(plan.WhatIf);
    }

    [Fact]
    public void Plan_FailCircuit_MovesFlowsToTheSecondCircuitOrOffTheNetwork()
    {
        var plan = TestNetworks.Plan(TwoCircuits, Inventory, WhatIf.Circuit("er-ams"));

        var primary = plan.Flows.Single(f => f.Kind == FlowKind.Users && f.Datacenter == "westeurope");
        Assert.Equal("er-dub", primary.Circuit);
        Assert.Equal("12076:51002", primary.Community);
        var secondary = plan.Flows.Single(f => f.Kind == FlowKind.Users && f.Datacenter == "northeurope");
        Assert.Equal(FlowPath.Unreachable, secondary.Path);
        Assert.Contains("er-ams failed", secondary.Reason, StringComparison.Ordinal);
        Assert.Contains("lacks 12076:51003", secondary.Reason, StringComparison.Ordinal);
        Assert.Contains(plan.Changes!, c => c.Before.StartsWith("northeurope", StringComparison.Ordinal) && c.PathBefore == FlowPath.ExpressRoute && c.PathAfter == FlowPath.Unreachable);
        Assert.Contains(plan.Changes!, c => c.CircuitBefore == "er-ams" && c.CircuitAfter == "er-dub");
    }

    [Fact]
    public void Plan_FailDatacenter_UsersLoseItAndGatewayFailsOverToThePair()
    {
        var plan = TestNetworks.Plan(TwoCircuits, Inventory, WhatIf.Datacenter("westeurope"));

        Assert.Equal(FlowPath.Unreachable, plan.Flows.Single(f => f.Kind == FlowKind.Users && f.Datacenter == "westeurope").Path);
        var gateway = plan.Flows.Single(f => f.Kind == FlowKind.Gateway);
        Assert.Equal("northeurope", gateway.Datacenter);
        Assert.Equal("12076:51003", gateway.Community);
        Assert.Equal("er-ams", gateway.Circuit);
        var change = Assert.Single(plan.Changes!, c => c.From == "hq/gateway:gw/gw1");
        Assert.Equal("bus westeurope (europe)", change.Before);
        Assert.Equal("bus northeurope (europe)", change.After);
    }

    [Fact]
    public void Plan_FailDatacenterWithOneCommunityMissing_FailoverLeavesTheCircuit()
    {
        var network = TestNetworks.OneCircuit("\"12076:51002\"");
        var inventory = """
            environments: [{name: env1, geography: europe, cdn: false}]
            machines: [{name: m1, environment: env1, site: hq}]
            """;
        var plan = TestNetworks.Plan(network, inventory, WhatIf.Datacenter("westeurope"));

        var machine = plan.Flows.Single(f => f.Kind == FlowKind.Machine);
        Assert.Equal(FlowPath.Internet, machine.Path);
        var change = Assert.Single(plan.Changes!, c => c.From == "hq/machine:m1");
        Assert.Equal(FlowPath.ExpressRoute, change.PathBefore);
        Assert.Equal(FlowPath.Internet, change.PathAfter);
    }

    [Fact]
    public void Plan_FailUnknownCircuit_IsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => TestNetworks.Plan(TwoCircuits, Inventory, WhatIf.Circuit("er-nope")));

        Assert.Contains("er-nope", error.Message, StringComparison.Ordinal);
        Assert.Contains("er-ams", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_FailUnknownDatacenter_IsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => TestNetworks.Plan(TwoCircuits, Inventory, WhatIf.Datacenter("atlantis")));

        Assert.Contains("atlantis", error.Message, StringComparison.Ordinal);
    }
}
