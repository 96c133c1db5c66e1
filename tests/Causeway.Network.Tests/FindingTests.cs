namespace Causeway.Network.Tests;

/// <summary>One minimal network per finding: the code, severity and named communities.</summary>
public sealed class FindingTests
{
    private const string Europe = "\"12076:51002\", \"12076:51003\"";

    private static Finding Single(PlanResult plan, string code) => Assert.Single(plan.Findings, f => f.Code == code);

    [Fact]
    public void Plan_EuropeFilterMissingNorthEurope_ReportsExactly51003()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51002\""), TestNetworks.OneEnvironment());

        var finding = Single(plan, FindingCodes.MissingCommunity);
        Assert.Equal(["12076:51003"], finding.Communities);
        Assert.Contains("circuit:er-1", finding.Objects);
        Assert.Contains("routeFilter:rf-1", finding.Objects);
    }

    [Fact]
    public void Plan_PeeringWithoutRouteFilter_ReportsNothingAdvertised()
    {
        var network = """
            sites: [{name: hq, traffic: [users], publicPrefixes: [203.0.113.0/29], internetBreakout: true}]
            circuits:
              - {name: er-1, site: hq, peeringLocation: Amsterdam, region: westeurope, sku: Standard, bandwidthMbps: 1000,
                 microsoftPeering: {customerAsn: 65010, advertisedPublicPrefixes: [203.0.113.0/29]}}
            """;
        var plan = TestNetworks.Plan(network, TestNetworks.OneEnvironment());

        var finding = Single(plan, FindingCodes.NoRouteFilter);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.All(plan.Flows.Where(f => f.Kind == FlowKind.Users), f => Assert.Equal(FlowPath.Internet, f.Path));
        Assert.Equal(["12076:51002", "12076:51003"], plan.Artifacts.RouteFilters.Single().Communities);
        Assert.Equal("rf-er-1", plan.Artifacts.RouteFilters.Single().RouteFilter);
    }

    [Fact]
    public void Plan_FilterWithTwoRules_ReportsOneAllowRuleNeeded()
    {
        var network = TestNetworks.OneCircuit(Europe).Replace(
            "          - access: Allow",
            "          - access: Deny\n            communities: [\"12076:5010\"]\n          - access: Allow",
            StringComparison.Ordinal);
        var plan = TestNetworks.Plan(network, TestNetworks.OneEnvironment());

        var finding = Single(plan, FindingCodes.RouteFilterRules);
        Assert.Contains("12076:5010", finding.Communities);
        Assert.Contains("12076:51002", finding.Communities);
    }

    [Fact]
    public void Plan_CircuitWithoutMicrosoftPeering_ReportsIt()
    {
        var network = """
            sites: [{name: hq, traffic: [users], publicPrefixes: [203.0.113.0/29], internetBreakout: true}]
            circuits: [{name: er-1, site: hq, peeringLocation: Amsterdam, region: westeurope, sku: Standard, bandwidthMbps: 1000}]
            """;
        var plan = TestNetworks.Plan(network, TestNetworks.OneEnvironment());

        Assert.Equal(Severity.Error, Single(plan, FindingCodes.NoMicrosoftPeering).Severity);
        Assert.Contains("express-route peering create", plan.Artifacts.AzCli, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LocalCircuitOutsideItsMetro_NeedsStandard()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe, sku: "Local"), TestNetworks.OneEnvironment());

        var finding = Single(plan, FindingCodes.SkuReach);
        Assert.Equal(["12076:51003"], finding.Communities);
        Assert.Contains("northeurope", finding.Message, StringComparison.Ordinal);
        Assert.Contains("Standard", finding.Fix, StringComparison.Ordinal);
        var secondary = plan.Flows.Single(f => f.Kind == FlowKind.Users && f.Datacenter == "northeurope");
        Assert.Equal(FlowPath.Internet, secondary.Path);
    }

    [Fact]
    public void Plan_StandardCircuitOutsideItsGeopoliticalArea_NeedsPremium()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51004\", \"12076:51006\""), TestNetworks.OneEnvironment("unitedstates"));

        var finding = Single(plan, FindingCodes.SkuReach);
        Assert.Equal(["12076:51004", "12076:51006"], finding.Communities);
        Assert.Contains("Premium", finding.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Flows, f => f.Path == FlowPath.ExpressRoute && f.Kind == FlowKind.Users);
    }

    [Fact]
    public void Plan_PremiumCircuit_ReachesAnyArea()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51004\", \"12076:51006\"", sku: "Premium"), TestNetworks.OneEnvironment("unitedstates"));

        Assert.DoesNotContain(plan.Findings, f => f.Code == FindingCodes.SkuReach);
        Assert.All(plan.Flows.Where(f => f.Kind == FlowKind.Users), f => Assert.Equal(FlowPath.ExpressRoute, f.Path));
    }

    [Fact]
    public void Plan_GatewayInAnotherRegion_ReportsMismatch()
    {
        var inventory = """
            environments: [{name: env1, geography: europe}]
            gateways: [{name: us-gw, region: unitedstates, members: [{name: gw1, site: hq}]}]
            connections: [{environment: env1, connector: shared_sql, gateway: us-gw}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), inventory);

        var finding = Single(plan, FindingCodes.GatewayRegion);
        Assert.Equal(["gateway:us-gw", "environment:env1"], finding.Objects);
    }

    [Fact]
    public void Plan_OnPremisesDataWithoutGateway_ReportsGatewayStillNeeded()
    {
        var inventory = """
            environments: [{name: env1, geography: europe}]
            connections: [{environment: env1, connector: shared_sql, onPremises: true}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), inventory);

        var finding = Single(plan, FindingCodes.OnPremisesWithoutGateway);
        Assert.Contains("does not remove the gateway", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ImpossibleExpectations_AreInformationWithTheReason()
    {
        var inventory = """
            environments: [{name: env1, geography: europe, cdn: true}]
            connections: [{environment: env1, connector: shared_salesforce, thirdParty: true}, {environment: env1, connector: shared_office365}]
            apps: [{name: a, environment: env1, kind: canvas}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), inventory);

        Assert.Equal(Severity.Info, Single(plan, FindingCodes.AzureServicesNotPrivate).Severity);
        Assert.Contains("edge of Microsoft's datacenter", Single(plan, FindingCodes.AzureServicesNotPrivate).Message, StringComparison.Ordinal);
        Assert.Equal(Severity.Info, Single(plan, FindingCodes.CdnNotPrivate).Severity);
        Assert.Equal(["connector:shared_salesforce"], Single(plan, FindingCodes.ThirdPartyNotPrivate).Objects);
        Assert.Equal(FlowPath.Internet, plan.Flows.Single(f => f.Kind == FlowKind.ThirdPartyConnector).Path);
        Assert.Equal(FlowPath.Backbone, plan.Flows.Single(f => f.Kind == FlowKind.FirstPartyConnector).Path);
        Assert.Equal(FlowPath.Backbone, plan.Flows.Single(f => f.Kind == FlowKind.AzureServices).Path);
    }

    [Fact]
    public void Plan_CanvasAppAtSiteWithoutBreakout_TurnOffCdn()
    {
        var inventory = """
            environments: [{name: env1, geography: europe, cdn: true}]
            apps: [{name: a, environment: env1, kind: canvas}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe, breakout: false), inventory);

        var finding = Single(plan, FindingCodes.CanvasCdnWithoutBreakout);
        Assert.Contains("environment:env1", finding.Objects);
        Assert.Contains("Load default static content from Content Delivery Network", finding.Fix, StringComparison.Ordinal);
        Assert.Equal(FlowPath.Unreachable, plan.Flows.Single(f => f.Kind == FlowKind.StaticContent).Path);
    }

    [Fact]
    public void Plan_ModelDrivenAppOnly_NoCdnFinding()
    {
        var inventory = """
            environments: [{name: env1, geography: europe, cdn: true}]
            apps: [{name: a, environment: env1, kind: model-driven}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe, breakout: false), inventory);

        Assert.DoesNotContain(plan.Findings, f => f.Code == FindingCodes.CanvasCdnWithoutBreakout);
        Assert.DoesNotContain(plan.Flows, f => f.Kind == FlowKind.StaticContent);
    }

    [Fact]
    public void Plan_Microsoft365Community_NeedsAuthorization()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe + ", \"12076:5010\", \"12076:5060\""), TestNetworks.OneEnvironment());

        var finding = Single(plan, FindingCodes.Microsoft365Authorization);
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Equal(["12076:5010"], finding.Communities);
    }

    [Theory]
    [InlineData("10.1.0.0/29", FindingCodes.PrivatePrefix)]
    [InlineData("172.16.0.0/30", FindingCodes.PrivatePrefix)]
    [InlineData("192.168.10.0/29", FindingCodes.PrivatePrefix)]
    [InlineData("0.0.0.0/0", FindingCodes.DefaultRoutePrefix)]
    public void Plan_AdvertisedPrefixNotAccepted_IsAnError(string prefix, string code)
    {
        var network = TestNetworks.OneCircuit(Europe).Replace("advertisedPublicPrefixes: [203.0.113.0/29]", $"advertisedPublicPrefixes: [{prefix}]", StringComparison.Ordinal);
        var plan = TestNetworks.Plan(network, TestNetworks.OneEnvironment());

        var finding = Single(plan, code);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("network.yaml(", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_MoreThan200Prefixes_IsAnError()
    {
        var prefixes = string.Join(", ", Enumerable.Range(0, 201).Select(i => $"198.18.{i}.0/30"));
        var network = TestNetworks.OneCircuit(Europe).Replace("advertisedPublicPrefixes: [203.0.113.0/29]", $"advertisedPublicPrefixes: [{prefixes}]", StringComparison.Ordinal);

        Assert.Contains("201", Single(TestNetworks.Plan(network, TestNetworks.OneEnvironment()), FindingCodes.TooManyPrefixes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NoAdvertisedPrefix_IsAnError()
    {
        var network = TestNetworks.OneCircuit(Europe).Replace("advertisedPublicPrefixes: [203.0.113.0/29]", "advertisedPublicPrefixes: []", StringComparison.Ordinal);

        Assert.Equal(Severity.Error, Single(TestNetworks.Plan(network, TestNetworks.OneEnvironment()), FindingCodes.NoPrefixes).Severity);
    }

    [Fact]
    public void Plan_SovereignGeographyOverPublicCircuit_NeedsItsOwnCloud()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51108\", \"12076:51105\"", sku: "Premium"), TestNetworks.OneEnvironment("usgovhigh"));

        var finding = Single(plan, FindingCodes.SovereignCloud);
        Assert.Equal(["12076:51108", "12076:51105"], finding.Communities);
        Assert.Contains("Azure Government", finding.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Flows, f => f.Path == FlowPath.ExpressRoute && f.Kind == FlowKind.Users);
    }

    [Fact]
    public void Plan_SiteWithOneCircuit_IsASinglePointOfFailure()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), TestNetworks.OneEnvironment());

        Assert.Equal(Severity.Warning, Single(plan, FindingCodes.SingleCircuit).Severity);
    }

    [Fact]
    public void Plan_SiteWithoutCircuit_AllInternet()
    {
        var network = "sites: [{name: hq, traffic: [users], publicPrefixes: [203.0.113.0/29], internetBreakout: true}]";
        var plan = TestNetworks.Plan(network, TestNetworks.OneEnvironment());

        Assert.Equal(Severity.Info, Single(plan, FindingCodes.NoCircuit).Severity);
        Assert.All(plan.Flows.Where(f => f.Site is not null), f => Assert.Equal(FlowPath.Internet, f.Path));
    }

    [Fact]
    public void Plan_UnverifiedSecondDatacenter_IsFlagged()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51014\", \"12076:51008\"", sku: "Premium"), TestNetworks.OneEnvironment("southamerica"));

        Assert.Equal(["12076:51008"], Single(plan, FindingCodes.UnverifiedCommunity).Communities);
        Assert.Contains("UNVERIFIED", plan.Flows.Single(f => f.Datacenter == "southcentralus").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_SignInCommunityMissing_IsInformation()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), TestNetworks.OneEnvironment());

        Assert.Equal(["12076:5060"], Single(plan, FindingCodes.SignInNotInFilter).Communities);
        Assert.Equal(FlowPath.Internet, plan.Flows.Single(f => f.Kind == FlowKind.SignIn).Path);
    }

    [Fact]
    public void Plan_SignInCommunityPresent_RidesTheCircuit()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe + ", \"12076:5060\""), TestNetworks.OneEnvironment());

        var signIn = plan.Flows.Single(f => f.Kind == FlowKind.SignIn);
        Assert.Equal(FlowPath.ExpressRoute, signIn.Path);
        Assert.Equal("12076:5060", signIn.Community);
    }

    [Fact]
    public void Plan_NoPathAndNoBreakout_FlowsAreUnreachable()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51002\"", breakout: false), TestNetworks.OneEnvironment(cdn: false));

        var finding = Single(plan, FindingCodes.Unreachable);
        Assert.Contains("site:hq", finding.Objects);
        Assert.Equal(["12076:51003"], finding.Communities);
        Assert.Equal(FlowPath.Unreachable, plan.Flows.Single(f => f.Datacenter == "northeurope").Path);
    }

    [Fact]
    public void Plan_UnknownPeeringLocation_IsAWarning()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe, location: "Atlantis"), TestNetworks.OneEnvironment());

        Assert.Equal(Severity.Warning, Single(plan, FindingCodes.UnknownPeeringLocation).Severity);
        Assert.DoesNotContain(plan.Findings, f => f.Code == FindingCodes.SkuReach);
    }

    [Fact]
    public void Plan_MachinesAtSiteNotDeclaringThem_IsAWarning()
    {
        var inventory = """
            environments: [{name: env1, geography: europe}]
            machines: [{name: m1, environment: env1, site: hq}]
            """;
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit(Europe), inventory);

        Assert.Equal(Severity.Warning, Single(plan, FindingCodes.UndeclaredTraffic).Severity);
        var machine = plan.Flows.Single(f => f.Kind == FlowKind.Machine);
        Assert.Equal(FlowPath.ExpressRoute, machine.Path);
        Assert.Equal("12076:51002", machine.Community);
    }

    [Fact]
    public void Plan_FindingsOrder_ErrorsFirst()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51002\""), TestNetworks.OneEnvironment());

        Assert.Equal(plan.Findings.OrderBy(f => f.Severity).Select(f => f.Code), plan.Findings.Select(f => f.Code));
    }
}
