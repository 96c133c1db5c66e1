using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Relay.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Causeway.Relay.Tests;

[Collection(RelayCollection.Name)]
public sealed class ManagementApiTests(RelayFixture relay)
{
    private const string Route = "/api/v1/relay/hybridconnections";

    [Fact]
    public async Task Post_Valid_Returns201WithDefaultRuleAndConnectionString()
    {
        using var response = await relay.Http.PostAsJsonAsync(Route, new { path = "shape-" + Guid.NewGuid().ToString("N")[..6], requiresClientAuthorization = true });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var path = body.GetProperty("path").GetString();
        Assert.Equal($"{Route}/{path}", response.Headers.Location?.OriginalString);
        Assert.Equal("sb://127.0.0.1:5671/", body.GetProperty("endpoint").GetString());
        var rule = body.GetProperty("authorizationRules")[0];
        Assert.Equal("RootManageSharedAccessKey", rule.GetProperty("keyName").GetString());
        Assert.Equal(["Listen", "Send", "Manage"], rule.GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
        var key = rule.GetProperty("primaryKey").GetString();
        Assert.Equal(32, Convert.FromBase64String(key!).Length);
        Assert.Equal(
            $"Endpoint=sb://127.0.0.1:5671/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={key};EntityPath={path}",
            body.GetProperty("connectionString").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"path\":\"bad path\"}")]
    [InlineData("{\"path\":\"-leading\"}")]
    [InlineData("{\"path\":\"a//b\"}")]
    [InlineData("{\"path\":\"ok\",\"authorizationRules\":[{\"keyName\":\"r\",\"rights\":[\"Fly\"]}]}")]
    [InlineData("{\"path\":\"ok\",\"authorizationRules\":[{\"keyName\":\"RootManageSharedAccessKey\",\"rights\":[\"Send\"]}]}")]
    public async Task Post_Invalid_Returns400ProblemAndCreatesNothing(string json)
    {
        using var response = await relay.Http.PostAsync(Route, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var get = await relay.Http.GetAsync($"{Route}/ok");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Post_Duplicate_Returns409()
    {
        var hc = await relay.CreateHybridConnectionAsync("dup");

        using var response = await relay.Http.PostAsJsonAsync(Route, new { path = hc.Path.ToUpperInvariant() });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task GetAndDelete_Unknown_Return404()
    {
        using var get = await relay.Http.GetAsync($"{Route}/unknown-thing");
        using var delete = await relay.Http.DeleteAsync($"{Route}/unknown-thing");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
    }

    [Fact]
    public async Task Get_List_ContainsCreated()
    {
        var hc = await relay.CreateHybridConnectionAsync("listed");

        var all = await relay.Http.GetFromJsonAsync<List<HybridConnectionResponse>>(Route);

        Assert.Contains(all!, h => h.Path == hc.Path);
    }

    [Fact]
    public async Task Get_CallerWithoutManage_SeesNoSecrets()
    {
        var directory = Path.Combine(Path.GetTempPath(), "causeway-relay-mgmt-" + Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddCausewayRelay(o => o.DatabasePath = Path.Combine(directory, "relay.db"));
        await using var app = builder.Build();
        app.MapRelayManagementApi(o => o.CanReadSecrets = context => context.Request.Headers.ContainsKey("X-Manage"));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
            using var created = await http.PostAsJsonAsync(Route, new { path = "secret" });
            var text = await created.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.DoesNotContain("primaryKey", text, StringComparison.Ordinal);
            Assert.DoesNotContain("connectionString", text, StringComparison.Ordinal);
            Assert.Contains("RootManageSharedAccessKey", text, StringComparison.Ordinal);

            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}/secret");
            request.Headers.Add("X-Manage", "yes");
            using var manager = await http.SendAsync(request);
            Assert.Contains("primaryKey", await manager.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Options_Invalid_ValidationNamesTheSetting()
    {
        var services = new ServiceCollection();
        services.AddCausewayRelay(o =>
        {
            o.DatabasePath = "";
            o.RequestTimeout = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RelayOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("RelayOptions.DatabasePath", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RelayOptions.RequestTimeout", StringComparison.Ordinal));
    }
}
