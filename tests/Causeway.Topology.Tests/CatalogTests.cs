using Causeway.Topology;

namespace Causeway.Topology.Tests;

public sealed class CatalogTests
{
    // Written out by hand from the reference table (ExpressRoute routing communities), so the embedded data is checked
    // against an independent copy.
    public static TheoryData<string, string, string?, string, string?, string> Pairs => new()
    {
        { "unitedstates", "eastus", "12076:51004", "westus", "12076:51006", "crm.dynamics.com" },
        { "europe", "westeurope", "12076:51002", "northeurope", "12076:51003", "crm4.dynamics.com" },
        { "unitedkingdom", "uksouth", "12076:51024", "ukwest", "12076:51025", "crm11.dynamics.com" },
        { "asia", "eastasia", "12076:51010", "southeastasia", "12076:51011", "crm5.dynamics.com" },
        { "australia", "australiaeast", "12076:51015", "australiasoutheast", "12076:51016", "crm6.dynamics.com" },
        { "japan", "japaneast", "12076:51012", "japanwest", "12076:51013", "crm7.dynamics.com" },
        { "india", "centralindia", "12076:51017", "southindia", "12076:51019", "crm8.dynamics.com" },
        { "canada", "canadacentral", "12076:51020", "canadaeast", "12076:51021", "crm3.dynamics.com" },
        { "southamerica", "brazilsouth", "12076:51014", "southcentralus", "12076:51008", "crm2.dynamics.com" },
        { "france", "francecentral", "12076:51030", "francesouth", "12076:51031", "crm12.dynamics.com" },
        { "germany", "germanynorth", "12076:51040", "germanywestcentral", "12076:51041", "crm16.dynamics.com" },
        { "switzerland", "switzerlandnorth", "12076:51038", "switzerlandwest", "12076:51039", "crm17.dynamics.com" },
        { "norway", "norwayeast", "12076:51042", "norwaywest", "12076:51043", "crm19.dynamics.com" },
        { "korea", "koreacentral", "12076:51029", "koreasouth", "12076:51028", "crm21.dynamics.com" },
        { "uae", "uaenorth", "12076:51036", "uaecentral", "12076:51037", "crm15.dynamics.com" },
        { "southafrica", "southafricanorth", "12076:51034", "southafricawest", "12076:51035", "crm14.dynamics.com" },
        { "singapore", "southeastasia", "12076:51011", "eastasia", "12076:51010", "crm20.dynamics.com" },
        { "usgovhigh", "usgovtexas", "12076:51108", "usgovvirginia", "12076:51105", "crm.microsoftdynamics.us" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Find_KnownGeography_HasExactPairAndCommunities(string id, string a, string? communityA, string b, string? communityB, string host)
    {
        var geography = TopologyCatalog.Default.Find(id);

        Assert.NotNull(geography);
        Assert.Equal([a, b], geography.Datacenters.Select(d => d.Id));
        Assert.Equal([communityA, communityB], geography.Datacenters.Select(d => d.BgpCommunity));
        Assert.Equal(host, geography.EnvironmentHostSuffix);
        Assert.NotEmpty(geography.Sources);
    }

    [Fact]
    public void Geographies_Count_MatchesReferenceTablePlusSweden()
    {
        Assert.Equal(Pairs.Count + 1, TopologyCatalog.Default.Geographies.Count);
    }

    [Fact]
    public void Find_UnverifiedValues_AreFlagged()
    {
        var catalog = TopologyCatalog.Default;

        Assert.True(catalog.Find("southamerica")!.Datacenters[1].Unverified);
        Assert.False(catalog.Find("southamerica")!.Datacenters[0].Unverified);
        var sweden = catalog.Find("sweden")!;
        Assert.False(sweden.HasPair);
        Assert.Null(sweden.Datacenters[0].BgpCommunity);
        Assert.True(sweden.Datacenters[0].Unverified);
        Assert.True(catalog.Find("norway")!.HostSuffixUnverified);
        Assert.True(catalog.Find("usgovhigh")!.Sovereign);
    }

    [Fact]
    public void ServiceCommunities_EntraIdAndMicrosoft365_AreExact()
    {
        var services = TopologyCatalog.Default.ServiceCommunities.ToDictionary(s => s.Community);

        Assert.Equal("Microsoft Entra ID", services["12076:5060"].Name);
        Assert.False(services["12076:5060"].NeedsAuthorization);
        Assert.All(new[] { "12076:5010", "12076:5020", "12076:5030", "12076:5100" }, c => Assert.True(services[c].NeedsAuthorization));
        Assert.Equal(8, services.Count);
    }

    [Fact]
    public void Find_IgnoresCase_AndUnknownIsNull()
    {
        Assert.Equal("europe", TopologyCatalog.Default.Find("EUROPE")!.Id);
        Assert.Null(TopologyCatalog.Default.Find("mars"));
    }
}
