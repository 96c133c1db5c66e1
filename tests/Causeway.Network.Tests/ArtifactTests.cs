using System.Text.Json.Nodes;

namespace Causeway.Network.Tests;

/// <summary>The route filter artifacts against the resource fields of platform-facts §2.</summary>
public sealed class ArtifactTests
{
    private static PlanResult Example() =>
        Planner.Plan(NetworkDocument.Load(TestNetworks.ExamplePath("network.yaml")), Inventory.Load(TestNetworks.ExamplePath("inventory.yaml")));

    [Fact]
    public void Arm_RouteFilter_HasOneAllowCommunityRuleWithExactlyTheNeededCommunities()
    {
        var arm = Example().Artifacts.Arm;

        var filters = arm["resources"]!.AsArray().Where(r => (string?)r!["type"] == "Microsoft.Network/routeFilters").ToArray();
        Assert.Equal(2, filters.Length);
        var hq = filters.Single(f => (string?)f!["name"] == "rf-power-platform")!;
        Assert.Equal("westeurope", (string?)hq["location"]);
        var rule = Assert.Single(hq["properties"]!["rules"]!.AsArray())!;
        Assert.Equal("Allow", (string?)rule["properties"]!["access"]);
        Assert.Equal("Community", (string?)rule["properties"]!["routeFilterRuleType"]);
        Assert.Equal(["12076:51002", "12076:51003"], rule["properties"]!["communities"]!.AsArray().Select(c => (string)c!));
        Assert.False(string.IsNullOrEmpty((string?)rule["name"]));
    }

    [Fact]
    public void Arm_Peering_AttachesTheFilterById()
    {
        var arm = Example().Artifacts.Arm;

        var peering = arm["resources"]!.AsArray().First(r => (string?)r!["type"] == "Microsoft.Network/expressRouteCircuits/peerings")!;
        Assert.Equal("er-ams/MicrosoftPeering", (string?)peering["name"]);
        Assert.Equal("MicrosoftPeering", (string?)peering["properties"]!["peeringType"]);
        Assert.Equal(65010, (long)peering["properties"]!["peerASN"]!);
        Assert.Equal("[resourceId('Microsoft.Network/routeFilters', 'rf-power-platform')]", (string?)peering["properties"]!["routeFilter"]!["id"]);
        Assert.Equal(["203.0.113.0/29"], peering["properties"]!["microsoftPeeringConfig"]!["advertisedPublicPrefixes"]!.AsArray().Select(p => (string)p!));
        Assert.Equal("[parameters('erAmsVlanId')]", (string?)peering["properties"]!["vlanId"]);
        Assert.NotNull(arm["parameters"]!["erAmsVlanId"]);
        Assert.StartsWith("https://schema.management.azure.com/schemas/", (string?)arm["$schema"], StringComparison.Ordinal);
    }

    [Fact]
    public void Arm_Serialized_IsValidJson()
    {
        var text = Example().Artifacts.Arm.ToJsonString();

        Assert.NotNull(JsonNode.Parse(text));
    }

    [Fact]
    public void Bicep_RouteFilter_HasTheResourceSchemaFields()
    {
        var bicep = Example().Artifacts.Bicep;

        Assert.Contains("resource erAmsRouteFilter 'Microsoft.Network/routeFilters@2023-09-01' = {", bicep, StringComparison.Ordinal);
        Assert.Contains("          access: 'Allow'\n          routeFilterRuleType: 'Community'\n          communities: [\n            '12076:51002'\n            '12076:51003'\n          ]", bicep, StringComparison.Ordinal);
        Assert.Contains("resource erAmsCircuit 'Microsoft.Network/expressRouteCircuits@2023-09-01' existing = {", bicep, StringComparison.Ordinal);
        Assert.Contains("  parent: erAmsCircuit\n  name: 'MicrosoftPeering'", bicep, StringComparison.Ordinal);
        Assert.Contains("      id: erAmsRouteFilter.id", bicep, StringComparison.Ordinal);
        Assert.Contains("param erAmsVlanId int", bicep, StringComparison.Ordinal);
        Assert.Equal(bicep.Count(c => c == '{'), bicep.Count(c => c == '}'));
        Assert.Equal(bicep.Count(c => c == '['), bicep.Count(c => c == ']'));
    }

    [Fact]
    public void AzCli_CreatesRuleAndAttachesFilter()
    {
        var cli = Example().Artifacts.AzCli;

        Assert.Contains("az network route-filter create -n rf-power-platform -g rg-network -l westeurope", cli, StringComparison.Ordinal);
        Assert.Contains("az network route-filter rule create --filter-name rf-power-platform -n allow-power-platform -g rg-network --access Allow --communities 12076:51002 12076:51003\n", cli, StringComparison.Ordinal);
        Assert.Contains("az network express-route peering update --circuit-name er-ams -g rg-network --name MicrosoftPeering --route-filter rf-power-platform", cli, StringComparison.Ordinal);
        Assert.Contains("--communities 12076:51002 12076:51003 12076:5060", cli, StringComparison.Ordinal);
    }

    [Fact]
    public void AzCli_WithoutResourceGroup_AsksForIt()
    {
        var plan = TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51002\""), TestNetworks.OneEnvironment());

        Assert.Contains("RG=\"${RG:?", plan.Artifacts.AzCli, StringComparison.Ordinal);
        Assert.Contains("-g \"$RG\"", plan.Artifacts.AzCli, StringComparison.Ordinal);
    }

    [Fact]
    public void Firewall_GatewaySite_OpensBusPorts()
    {
        var rules = Example().Artifacts.Firewall.Where(r => r.Site == "hq").ToArray();

        var bus = rules.Where(r => r.Purpose.StartsWith("gateway", StringComparison.Ordinal)).Select(r => r.Port).Distinct().ToArray();
        Assert.Equal(["443", "5671-5672", "9350-9354"], bus);
        Assert.Contains(rules, r => r.Host == "*.crm4.dynamics.com" && r.Port == "443");
        Assert.Contains(rules, r => r.Purpose.StartsWith("desktop machines to the relay", StringComparison.Ordinal) && r.Port == "443");
        Assert.Contains(rules, r => r.Host == "login.microsoftonline.com");
    }

    [Fact]
    public void Firewall_ServerEndpoints_ReplaceTheDefaults()
    {
        var inventory = TestNetworks.Inventory(TestNetworks.OneEnvironment()) with
        {
            Endpoints = [new PlatformEndpoints("westeurope") { Api = "we.causeway.example" }],
        };
        var plan = Planner.Plan(TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\"")), inventory);

        Assert.Contains(plan.Artifacts.Firewall, r => r.Host == "we.causeway.example" && r.Purpose.Contains("westeurope", StringComparison.Ordinal));
        Assert.Contains(plan.Artifacts.Firewall, r => r.Host == "*.crm4.dynamics.com" && r.Purpose.Contains("northeurope", StringComparison.Ordinal));
    }
}
