using Causeway.Topology;

namespace Causeway.Topology.Tests;

public sealed class DeploymentTopologyTests
{
    [Fact]
    public void Create_NoSettings_ServesDefaultEightWithFourScaleGroupsPerDatacenter()
    {
        var topology = DeploymentTopology.Create(TopologyCatalog.Default);

        Assert.Equal(["unitedstates", "europe", "unitedkingdom", "asia", "australia", "japan", "india", "canada"], topology.Geographies.Select(g => g.Id));
        Assert.Equal(16, topology.Datacenters.Count);
        var groups = topology.ScaleGroupsIn("westeurope");
        Assert.Equal(["westeurope-canary-1", "westeurope-sandbox-1", "westeurope-prod-1", "westeurope-prod-2"], groups.Select(g => g.Name));
        Assert.Equal([ScaleGroupKind.Canary, ScaleGroupKind.Sandbox, ScaleGroupKind.Production, ScaleGroupKind.Production], groups.Select(g => g.Kind));
        Assert.All(groups, g => Assert.Equal(DeploymentTopology.DefaultCapacity, g.Capacity));
    }

    [Fact]
    public void Create_SharedDatacenters_AreListedOnce()
    {
        var topology = DeploymentTopology.Create(TopologyCatalog.Default, ["asia", "singapore"]);

        Assert.Equal(2, topology.Datacenters.Count);
        Assert.Equal(8, topology.ScaleGroups.Count);
    }

    [Theory]
    [InlineData("mars", "Topology:Geographies:0 is 'mars', which is not a known geography")]
    [InlineData("sweden", "Topology:Geographies:0 is 'sweden', whose datacenter pair is not documented")]
    public void Create_BadGeography_NamesTheSetting(string geography, string expected)
    {
        var e = Assert.Throws<TopologyConfigurationException>(() => DeploymentTopology.Create(TopologyCatalog.Default, [geography]));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ScaleGroupOfUnservedDatacenter_NamesTheSetting()
    {
        var groups = new Dictionary<string, List<ScaleGroupSettings>> { ["francecentral"] = [new() { Name = "fr-1", Kind = "production" }] };

        var e = Assert.Throws<TopologyConfigurationException>(() => DeploymentTopology.Create(TopologyCatalog.Default, ["europe"], groups));

        Assert.Contains("Topology:ScaleGroups:francecentral", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("p1", "gold", 5, "Topology:ScaleGroups:westeurope:0:Kind must be canary, sandbox or production")]
    [InlineData("p1", "1", 5, "Topology:ScaleGroups:westeurope:0:Kind must be canary, sandbox or production")]
    [InlineData("p1", "production", 0, "Topology:ScaleGroups:westeurope:0:Capacity must be at least 1")]
    [InlineData("bad name", "production", 5, "Topology:ScaleGroups:westeurope:0:Name must be 1-63 letters")]
    public void Create_BadScaleGroup_NamesTheSetting(string name, string kind, int capacity, string expected)
    {
        var groups = new Dictionary<string, List<ScaleGroupSettings>> { ["westeurope"] = [new() { Name = name, Kind = kind, Capacity = capacity }] };

        var e = Assert.Throws<TopologyConfigurationException>(() => DeploymentTopology.Create(TopologyCatalog.Default, ["europe"], groups));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_DuplicateScaleGroupName_IsRefused()
    {
        var groups = new Dictionary<string, List<ScaleGroupSettings>>
        {
            ["westeurope"] = [new() { Name = "eu-1", Kind = "production" }],
            ["northeurope"] = [new() { Name = "eu-1", Kind = "production" }],
        };

        var e = Assert.Throws<TopologyConfigurationException>(() => DeploymentTopology.Create(TopologyCatalog.Default, ["europe"], groups));

        Assert.Contains("'eu-1' is used by another scale group", e.Message, StringComparison.Ordinal);
    }
}
