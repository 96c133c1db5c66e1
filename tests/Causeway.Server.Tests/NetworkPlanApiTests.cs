using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Causeway.Server.Tests;

public sealed class NetworkPlanApiTests
{
    private const string Network = """
        sites:
          - name: hq
            traffic: [users]
            publicPrefixes: [203.0.113.0/29]
            internetBreakout: true
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
              routeFilter:
                name: rf-power-platform
                rules:
                  - access: Allow
                    communities: ["12076:51002"]
        """;

    [Fact]
    public async Task Plan_LiveInventory_FindsMissingCommunityOfCallersEnvironment()
    {
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(host.AdminToken);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/environments", new { name = "contoso", geography = "europe", type = "production" })).StatusCode);

        var response = await client.PostAsync("/api/v1/network/plan?format=json", new StringContent(Network, Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = await response.Content.ReadFromJsonAsync<JsonElement>();
        var missing = plan.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("code").GetString() == "route-filter-missing-community").ToList();
        Assert.Contains(missing, f => f.GetProperty("communities").EnumerateArray().Any(c => c.GetString() == "12076:51003"));
        Assert.Contains(plan.GetProperty("flows").EnumerateArray(), f => f.GetProperty("path").GetString() == "expressroute" && f.GetProperty("community").GetString() == "12076:51002");
    }

    [Fact]
    public async Task Plan_MalformedCommunity_Answers400WithPosition()
    {
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(host.AdminToken);

        var response = await client.PostAsync("/api/v1/network/plan", new StringContent(Network.Replace("12076:51002", "12076:5x", StringComparison.Ordinal), Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("12076:5x", detail, StringComparison.Ordinal);
        Assert.Contains("network", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_UnknownFormat_Answers400()
    {
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(host.AdminToken);

        var response = await client.PostAsync("/api/v1/network/plan?format=pdf", new StringContent(Network, Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
