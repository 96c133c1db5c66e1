using Causeway.Topology;

namespace Causeway.Topology.Tests;

public sealed class PlacementTests
{
    private static readonly DeploymentTopology Europe = DeploymentTopology.Create(TopologyCatalog.Default, ["europe"], defaultCapacity: 2);

    private static Geography EuropeGeography => Europe.Geographies[0];

    [Theory]
    [InlineData(EnvironmentType.Production, false, ScaleGroupKind.Production)]
    [InlineData(EnvironmentType.Default, false, ScaleGroupKind.Production)]
    [InlineData(EnvironmentType.Sandbox, false, ScaleGroupKind.Sandbox)]
    [InlineData(EnvironmentType.Developer, false, ScaleGroupKind.Sandbox)]
    [InlineData(EnvironmentType.Trial, false, ScaleGroupKind.Sandbox)]
    [InlineData(EnvironmentType.Production, true, ScaleGroupKind.Canary)]
    [InlineData(EnvironmentType.Sandbox, true, ScaleGroupKind.Canary)]
    public void KindFor_TypeAndEarlyRelease_GivesSeedKind(EnvironmentType type, bool early, ScaleGroupKind expected) =>
        Assert.Equal(expected, Placement.KindFor(type, early));

    [Fact]
    public void Place_EmptyDeployment_PrimaryIsFirstDatacenterOnTie()
    {
        var decision = Placement.Place(Europe, EuropeGeography, ScaleGroupKind.Production, new Dictionary<string, int>());

        Assert.Equal("westeurope-prod-1", decision.Primary.Name);
        Assert.Equal("northeurope-prod-1", decision.Secondary.Name);
        Assert.Equal("westeurope", decision.PrimaryDatacenter);
        Assert.Equal("northeurope", decision.SecondaryDatacenter);
    }

    [Fact]
    public void Place_FirstDatacenterFuller_PrimaryIsTheOtherAndGroupsHaveMostRoom()
    {
        var load = new Dictionary<string, int> { ["westeurope-prod-1"] = 2, ["westeurope-prod-2"] = 1, ["northeurope-prod-1"] = 1 };

        var decision = Placement.Place(Europe, EuropeGeography, ScaleGroupKind.Production, load);

        Assert.Equal("northeurope-prod-2", decision.Primary.Name);
        Assert.Equal("westeurope-prod-2", decision.Secondary.Name);
    }

    [Fact]
    public void Place_SameInput_SameDecision()
    {
        var load = new Dictionary<string, int> { ["northeurope-sandbox-1"] = 1 };

        var first = Placement.Place(Europe, EuropeGeography, ScaleGroupKind.Sandbox, load);
        var second = Placement.Place(Europe, EuropeGeography, ScaleGroupKind.Sandbox, load);

        Assert.Equal(first, second);
        Assert.Equal("westeurope-sandbox-1", first.Primary.Name);
    }

    [Fact]
    public void Place_OneDatacenterFull_ThrowsNamingGeographyAndKind()
    {
        var load = new Dictionary<string, int> { ["northeurope-canary-1"] = 2 };

        var e = Assert.Throws<CapacityExhaustedException>(() => Placement.Place(Europe, EuropeGeography, ScaleGroupKind.Canary, load));

        Assert.Contains("canary", e.Message, StringComparison.Ordinal);
        Assert.Contains("'europe'", e.Message, StringComparison.Ordinal);
        Assert.Contains("northeurope: 0 free of 2", e.Message, StringComparison.Ordinal);
    }
}
