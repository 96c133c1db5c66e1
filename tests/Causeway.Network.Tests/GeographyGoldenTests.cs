using Causeway.Topology;

namespace Causeway.Network.Tests;

/// <summary>For every geography of the catalog, the two regional communities are exact (values from platform-facts §1).</summary>
public sealed class GeographyGoldenTests
{
    public static TheoryData<string, string, string> Geographies => new()
    {
        { "unitedstates", "12076:51004", "12076:51006" },
        { "europe", "12076:51002", "12076:51003" },
        { "unitedkingdom", "12076:51024", "12076:51025" },
        { "asia", "12076:51010", "12076:51011" },
        { "australia", "12076:51015", "12076:51016" },
        { "japan", "12076:51012", "12076:51013" },
        { "india", "12076:51017", "12076:51019" },
        { "canada", "12076:51020", "12076:51021" },
        { "southamerica", "12076:51014", "12076:51008" },
        { "france", "12076:51030", "12076:51031" },
        { "germany", "12076:51040", "12076:51041" },
        { "switzerland", "12076:51038", "12076:51039" },
        { "norway", "12076:51042", "12076:51043" },
        { "korea", "12076:51029", "12076:51028" },
        { "uae", "12076:51036", "12076:51037" },
        { "southafrica", "12076:51034", "12076:51035" },
        { "singapore", "12076:51011", "12076:51010" },
        { "usgovhigh", "12076:51108", "12076:51105" },
    };

    [Fact]
    public void Golden_CoversEveryGeographyWithAPair()
    {
        var golden = Geographies.Select(row => (string)row[0]).ToHashSet();
        var paired = TopologyCatalog.Default.Geographies.Where(g => g.HasPair).Select(g => g.Id).ToHashSet();
        Assert.Equal(paired.Order(), golden.Order());
    }

    [Theory]
    [MemberData(nameof(Geographies))]
    public void Plan_FilterWithBothCommunities_BothDatacentersRideTheCircuit(string geography, string primary, string secondary)
    {
        var plan = Plan(geography, $"\"{primary}\", \"{secondary}\"");

        var users = plan.Flows.Where(f => f.Kind == FlowKind.Users).ToArray();
        Assert.Equal(2, users.Length);
        Assert.All(users, f => Assert.Equal(FlowPath.ExpressRoute, f.Path));
        Assert.All(users, f => Assert.Equal("er-1", f.Circuit));
        Assert.Equal([primary, secondary], users.Select(f => f.Community));
        Assert.DoesNotContain(plan.Findings, f => f.Code == FindingCodes.MissingCommunity);
        Assert.Equal([primary, secondary], plan.Artifacts.RouteFilters.Single().Communities);
    }

    [Theory]
    [MemberData(nameof(Geographies))]
    public void Plan_FilterWithoutRegionalCommunities_NamesBothMissingValues(string geography, string primary, string secondary)
    {
        var plan = Plan(geography, "\"12076:5060\"");

        var finding = Assert.Single(plan.Findings, f => f.Code == FindingCodes.MissingCommunity);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Equal([primary, secondary], finding.Communities);
        Assert.Contains($"geography:{geography}", finding.Objects);
        Assert.Equal([primary, secondary, "12076:5060"], plan.Artifacts.RouteFilters.Single().Communities);
    }

    [Theory]
    [MemberData(nameof(Geographies))]
    public void Plan_FilterWithOnlyPrimary_SecondaryLeavesTheCircuit(string geography, string primary, string secondary)
    {
        var plan = Plan(geography, $"\"{primary}\"");

        var finding = Assert.Single(plan.Findings, f => f.Code == FindingCodes.MissingCommunity);
        Assert.Equal([secondary], finding.Communities);
        Assert.Contains("failover", finding.Message, StringComparison.Ordinal);
        var users = plan.Flows.Where(f => f.Kind == FlowKind.Users).ToArray();
        Assert.Equal(FlowPath.ExpressRoute, users[0].Path);
        Assert.Equal(FlowPath.Internet, users[1].Path);
        Assert.Contains(secondary, users[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Inventory_GeographyWithoutPair_IsRejected()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Inventory(TestNetworks.OneEnvironment("sweden")));

        Assert.Contains("UNVERIFIED", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Position!.Line);
    }

    private static PlanResult Plan(string geography, string communities)
    {
        var gov = geography == "usgovhigh";
        var network = TestNetworks.OneCircuit(communities, sku: "Premium", location: gov ? "Washington DC" : "Amsterdam", region: gov ? "usgovvirginia" : "westeurope", cloud: gov ? "UsGov" : "Public");
        return TestNetworks.Plan(network, TestNetworks.OneEnvironment(geography, cdn: false));
    }
}
