using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Environments;
using Causeway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.Server.Tests;

/// <summary>
/// The control-plane API against a real server. Runs once per database provider (see the derived classes): the same
/// behaviour is expected on SQLite and on PostgreSQL.
/// </summary>
public abstract class PlatformApiTests
{
    protected abstract Task<IDictionary<string, string?>> ProviderSettingsAsync();

    private async Task<ServerHost> StartAsync(Dictionary<string, string?>? extra = null, TimeProvider? time = null)
    {
        var settings = await ProviderSettingsAsync();
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return await ServerHost.StartAsync(settings, time);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await JsonAsync(response)).GetProperty("detail").GetString()!;
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient client, string name, string geography = "europe", string type = "production", bool early = false) =>
        client.PostAsJsonAsync("/api/v1/environments", new { name, geography, type, earlyRelease = early });

    private static async Task<int> CountEnvironmentsAsync(ServerHost host, string token)
    {
        using var client = host.Client(token);
        return (await client.GetFromJsonAsync<JsonElement>("/api/v1/environments")).GetArrayLength();
    }

    [Fact]
    public async Task CreateEnvironment_Europe_PlacedOnWestAndNorthEuropeWithOwnDatabase()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);

        var response = await CreateAsync(client, "contoso");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal("ready", body.GetProperty("state").GetString());
        Assert.Equal(["westeurope", "northeurope"], new[] { body.GetProperty("primaryDatacenter").GetString(), body.GetProperty("secondaryDatacenter").GetString() }.Order().Reverse());
        Assert.Equal("westeurope-prod-1", body.GetProperty("scaleGroups").GetProperty("primary").GetString());
        Assert.Equal("northeurope-prod-1", body.GetProperty("scaleGroups").GetProperty("secondary").GetString());
        Assert.Equal($"{host.BaseAddress}environments/contoso/api/data/v9.2/", body.GetProperty("dataApiUrl").GetString());

        var id = body.GetProperty("id").GetGuid();
        var environments = host.Services.GetRequiredService<EnvironmentService>();
        var databases = host.Services.GetRequiredService<EnvironmentDatabases>();
        var record = (await environments.FindAsync(await TenantOfAsync(host), id, default))!;
        Assert.True(await databases.ExistsAsync(record.DatabaseLocation, default));

        var deleted = await client.DeleteAsync($"/api/v1/environments/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(await databases.ExistsAsync(record.DatabaseLocation, default));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/environments/{id}")).StatusCode);
    }

    [Fact]
    public async Task CreateEnvironment_SandboxAndEarlyRelease_UseTheirKinds()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);

        var sandbox = await JsonAsync(await CreateAsync(client, "lab", "unitedkingdom", "sandbox"));
        var early = await JsonAsync(await CreateAsync(client, "preview", "unitedkingdom", "production", early: true));

        Assert.Equal("uksouth-sandbox-1", sandbox.GetProperty("scaleGroups").GetProperty("primary").GetString());
        Assert.Equal("ukwest-sandbox-1", sandbox.GetProperty("scaleGroups").GetProperty("secondary").GetString());
        Assert.Equal("uksouth-canary-1", early.GetProperty("scaleGroups").GetProperty("primary").GetString());
    }

    [Theory]
    [InlineData("""{"name":"a1","geography":"mars","type":"production"}""", "geography", "not a known geography")]
    [InlineData("""{"name":"a1","geography":"france","type":"production"}""", "geography", "not served by this deployment")]
    [InlineData("""{"name":"a1","geography":"europe","type":"gold"}""", "type", "type must be one of")]
    [InlineData("""{"name":"a1","geography":"europe","type":"default"}""", "type", "type must be one of")]
    [InlineData("""{"name":"Bad_Name","geography":"europe","type":"production"}""", "name", "lower-case letters")]
    [InlineData("""{"name":"","geography":"europe","type":"production"}""", "name", "name is required")]
    [InlineData("""{"geography":"europe","type":"production"}""", "name", "name is required")]
    public async Task CreateEnvironment_BadField_Answers400NamingItAndCreatesNothing(string json, string field, string message)
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);
        var before = await CountEnvironmentsAsync(host, host.AdminToken);

        var response = await client.PostAsync("/api/v1/environments", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await JsonAsync(response);
        Assert.Contains(message, problem.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await CountEnvironmentsAsync(host, host.AdminToken));
    }

    [Fact]
    public async Task CreateEnvironment_DuplicateNameInTenant_Answers409()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, "contoso")).StatusCode);

        var again = await CreateAsync(client, "contoso", "asia", "sandbox");

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already has an environment named 'contoso'", await DetailAsync(again), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateEnvironment_SameNameInAnotherTenant_IsAllowed()
    {
        await using var host = await StartAsync();
        using var first = host.Client(host.AdminToken);
        using var second = host.Client(await host.CreateTenantAsync("fabrikam"));

        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(first, "shared-name")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(second, "shared-name")).StatusCode);
    }

    [Fact]
    public async Task DeleteEnvironment_Default_Answers409AndKeepsIt()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        var defaultId = list.EnumerateArray().Single(e => e.GetProperty("type").GetString() == "default").GetProperty("id").GetGuid();

        var response = await client.DeleteAsync($"/api/v1/environments/{defaultId}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("Default environment cannot be deleted", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/environments/{defaultId}")).StatusCode);
    }

    [Fact]
    public async Task CreateEnvironment_CapacityExhausted_Answers409NamingGeographyAndKindAndLeavesNothing()
    {
        await using var host = await StartAsync(new() { ["Topology:DefaultCapacity"] = "1" });
        using var client = host.Client(host.AdminToken);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, "one")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, "two")).StatusCode);
        var before = await CountEnvironmentsAsync(host, host.AdminToken);
        var files = Directory.GetFiles(host.DataDirectory, "*.db", SearchOption.AllDirectories).Length;

        var third = await CreateAsync(client, "three");

        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        var detail = await DetailAsync(third);
        Assert.Contains("production", detail, StringComparison.Ordinal);
        Assert.Contains("'europe'", detail, StringComparison.Ordinal);
        Assert.Equal(before, await CountEnvironmentsAsync(host, host.AdminToken));
        Assert.Equal(files, Directory.GetFiles(host.DataDirectory, "*.db", SearchOption.AllDirectories).Length);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(client, "three", "europe", "sandbox")).StatusCode);
    }

    [Fact]
    public async Task CreateEnvironment_ConcurrentRequests_NeverOverbook()
    {
        await using var host = await StartAsync(new() { ["Topology:DefaultCapacity"] = "1" });
        using var client = host.Client(host.AdminToken);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => CreateAsync(client, $"race-{i}")));

        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(6, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var geographies = await client.GetFromJsonAsync<JsonElement>("/api/v1/geographies");
        var europe = geographies.EnumerateArray().Single(g => g.GetProperty("id").GetString() == "europe");
        Assert.All(europe.GetProperty("datacenters").EnumerateArray().SelectMany(d => d.GetProperty("scaleGroups").EnumerateArray()),
            g => Assert.True(g.GetProperty("load").GetInt32() <= g.GetProperty("capacity").GetInt32()));
    }

    [Fact]
    public async Task GetEnvironment_OtherTenantsId_Answers404NotForbidden()
    {
        await using var host = await StartAsync();
        using var owner = host.Client(host.AdminToken);
        using var stranger = host.Client(await host.CreateTenantAsync("fabrikam"));
        var id = (await JsonAsync(await CreateAsync(owner, "secret-env"))).GetProperty("id").GetGuid();

        var get = await stranger.GetAsync($"/api/v1/environments/{id}");
        var delete = await stranger.DeleteAsync($"/api/v1/environments/{id}");
        var list = await stranger.GetFromJsonAsync<JsonElement>("/api/v1/environments");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.DoesNotContain(list.EnumerateArray(), e => e.GetProperty("id").GetGuid() == id);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/v1/environments/{id}")).StatusCode);
    }

    [Fact]
    public async Task Api_MissingOrBadOrRevokedToken_Answers401WithReason()
    {
        await using var host = await StartAsync();
        using var anonymous = host.Client(null);
        using var garbage = host.Client("cwt_not-a-real-token");
        using var admin = host.Client(host.AdminToken);
        var issued = await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "short" }));
        using var revokedClient = host.Client(issued.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/tokens/{issued.GetProperty("id").GetGuid()}")).StatusCode);

        var missing = await anonymous.GetAsync("/api/v1/environments");
        var bad = await garbage.GetAsync("/api/v1/environments");
        var revoked = await revokedClient.GetAsync("/api/v1/environments");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Contains("bearer token is required", await DetailAsync(missing), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Contains("not valid", await DetailAsync(bad), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", await DetailAsync(revoked), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_ExpiredToken_Answers401AndTrialIsDisabledAfter30Days()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time: clock);
        using var admin = host.Client(host.AdminToken);
        var issued = await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "day", expiresInDays = 1 }));
        using var shortLived = host.Client(issued.GetProperty("token").GetString());
        var trial = await JsonAsync(await CreateAsync(admin, "try-it", "europe", "trial"));
        Assert.Equal("ready", trial.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await shortLived.GetAsync("/api/v1/me")).StatusCode);

        clock.Advance(TimeSpan.FromDays(31));

        var expired = await shortLived.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", await DetailAsync(expired), StringComparison.Ordinal);
        var later = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{trial.GetProperty("id").GetGuid()}");
        Assert.Equal("disabled", later.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Api_MalformedJson_Answers400WithPosition()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);

        var response = await client.PostAsync("/api/v1/environments", new StringContent("""{"name": "x", """, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid JSON", await DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_OversizedBody_Answers413AndCreatesNothing()
    {
        await using var host = await StartAsync(new() { ["Server:MaxApiBodyBytes"] = "4096" });
        using var client = host.Client(host.AdminToken);
        var before = await CountEnvironmentsAsync(host, host.AdminToken);
        var json = JsonSerializer.Serialize(new { name = "big", geography = "europe", type = "production", padding = new string('x', 10_000) });

        var response = await client.PostAsync("/api/v1/environments", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than this endpoint accepts", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Equal(before, await CountEnvironmentsAsync(host, host.AdminToken));
    }

    [Fact]
    public async Task Roles_BasicUserSeesButCannotDelete_UserWithoutRoleGets404()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var id = (await JsonAsync(await CreateAsync(admin, "team"))).GetProperty("id").GetGuid();
        var user = await JsonAsync(await admin.PostAsJsonAsync("/api/v1/users", new { name = "maria" }));
        var userId = user.GetProperty("id").GetGuid();
        var token = (await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "maria", userId }))).GetProperty("token").GetString();
        using var maria = host.Client(token);
        Assert.Equal(HttpStatusCode.NotFound, (await maria.GetAsync($"/api/v1/environments/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await CreateAsync(maria, "mine", "europe", "production")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/environments/{id}/roles/{userId}", new { role = "basicUser" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await maria.GetAsync($"/api/v1/environments/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await maria.DeleteAsync($"/api/v1/environments/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(maria, "maria-dev", "europe", "developer")).StatusCode);
        var visible = await maria.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        Assert.Equal(["maria-dev", "team"], visible.EnumerateArray().Select(e => e.GetProperty("name").GetString()).Order());
    }

    [Fact]
    public async Task Tenants_OnlyOperatorsCreateThem_AndNewTenantGetsDefaultEnvironment()
    {
        await using var host = await StartAsync();
        var token = await host.CreateTenantAsync("fabrikam");
        using var tenantAdmin = host.Client(token);

        var forbidden = await tenantAdmin.PostAsJsonAsync("/api/v1/tenants", new { name = "other", administrator = "x" });
        var duplicate = await host.Client(host.AdminToken).PostAsJsonAsync("/api/v1/tenants", new { name = "fabrikam", administrator = "x" });
        var list = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/v1/environments");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("default", Assert.Single(list.EnumerateArray()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Geographies_ListServedWithPairsCommunitiesAndScaleGroupLoad()
    {
        await using var host = await StartAsync();
        using var client = host.Client(host.AdminToken);

        var geographies = await client.GetFromJsonAsync<JsonElement>("/api/v1/geographies");

        Assert.Equal(8, geographies.GetArrayLength());
        var us = geographies.EnumerateArray().Single(g => g.GetProperty("id").GetString() == "unitedstates");
        Assert.Equal("crm.dynamics.com", us.GetProperty("environmentHostSuffix").GetString());
        var east = us.GetProperty("datacenters")[0];
        Assert.Equal("12076:51004", east.GetProperty("bgpCommunity").GetString());
        Assert.Equal(1, east.GetProperty("scaleGroups").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "eastus-prod-1").GetProperty("load").GetInt32());
    }

    private static async Task<Guid> TenantOfAsync(ServerHost host)
    {
        using var client = host.Client(host.AdminToken);
        return (await client.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("tenantId").GetGuid();
    }
}

public sealed class SqlitePlatformApiTests : PlatformApiTests
{
    protected override Task<IDictionary<string, string?>> ProviderSettingsAsync() =>
        Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>());
}

[Collection("postgres")]
public sealed class PostgresPlatformApiTests(PostgresServer postgres) : PlatformApiTests
{
    protected override async Task<IDictionary<string, string?>> ProviderSettingsAsync() => new Dictionary<string, string?>
    {
        ["Database:Provider"] = "postgresql",
        ["Database:ConnectionString"] = await postgres.CreateDatabaseAsync($"platform_{Guid.NewGuid():N}"),
        ["EnvironmentDatabases:Provider"] = "postgresql",
        ["EnvironmentDatabases:Server"] = postgres.AdminConnectionString,
    };
}
