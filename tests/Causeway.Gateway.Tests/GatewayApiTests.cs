using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.Gateway.Tests;

public sealed class GatewayApiTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task CreateCluster_ValidRequest_ShowsClusterWithOfflineMemberAndPublicKey()
    {
        var (clusterId, credential, key) = await _host.CreateClusterAsync("hq");

        var cluster = await _host.GetAsync($"/api/v1/gateways/{clusterId}");

        Assert.StartsWith("gwm_", credential, StringComparison.Ordinal);
        Assert.Equal("hq", cluster.GetProperty("name").GetString());
        Assert.Equal("unitedstates", cluster.GetProperty("geography").GetString());
        Assert.Equal(GatewayEnvelope.ExportPublicKey(key).Trim(), cluster.GetProperty("publicKey").GetString());
        Assert.Equal(40, cluster.GetProperty("memberConcurrencyLimit").GetInt32());
        Assert.Equal("offline", cluster.GetProperty("status").GetString());
        var member = Assert.Single(cluster.GetProperty("members").EnumerateArray());
        Assert.Equal("offline", member.GetProperty("status").GetString());
        Assert.Equal(1, member.GetProperty("priority").GetInt32());
        Assert.DoesNotContain("credential", cluster.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(credential, cluster.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateCluster_BadFields_Returns400NamingEachAndCreatesNothing()
    {
        using var small = System.Security.Cryptography.RSA.Create(2048);
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsJsonAsync("/api/v1/gateways", new
        {
            name = "has space",
            geography = "atlantis",
            publicKey = small.ExportSubjectPublicKeyInfoPem(),
            escrowedKey = "not a key file",
            member = new { name = "" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "geography", "publicKey", "escrowedKey", "member.name" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        Assert.Empty((await _host.GetAsync("/api/v1/gateways")).EnumerateArray());
    }

    [Fact]
    public async Task GetCluster_OtherTenant_Returns404()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        var other = await _host.CreateTenantAsync("other");
        using var client = _host.Client(other);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/gateways/{clusterId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/gateways/{clusterId}/escrow")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/members", new { name = "x" })).StatusCode);
        Assert.Empty((await _host.GetAsync("/api/v1/gateways", other)).EnumerateArray());
    }

    [Fact]
    public async Task CreateCluster_SameNameTwice_Returns409()
    {
        await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);
        using var key = GatewayEnvelope.CreateKey();

        var response = await client.PostAsJsonAsync("/api/v1/gateways", new
        {
            name = "hq",
            geography = "unitedstates",
            publicKey = GatewayEnvelope.ExportPublicKey(key),
            escrowedKey = KeyFile.Protect(key, GatewayHost.RecoveryKey, KeyFile.MinimumIterations),
            member = new { name = "a" },
        });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task AddMember_ThenGet_ListsBothByPriority()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);

        var escrow = await _host.GetAsync($"/api/v1/gateways/{clusterId}/escrow");
        var added = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/members", new { name = "second", version = "1.0" });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using var opened = KeyFile.Unprotect(escrow.GetProperty("escrowedKey").GetString()!, GatewayHost.RecoveryKey);
        Assert.True(GatewayEnvelope.IsPairOf(opened, escrow.GetProperty("publicKey").GetString()!));
        var members = (await _host.GetAsync($"/api/v1/gateways/{clusterId}")).GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(["first", "second"], members.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal([1, 2], members.Select(m => m.GetProperty("priority").GetInt32()));
    }

    [Fact]
    public async Task UpdateCluster_DistributeAndLimit_AreStored()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PatchAsJsonAsync($"/api/v1/gateways/{clusterId}", new { distributeRequests = true, memberConcurrencyLimit = 3 });
        var bad = await client.PatchAsJsonAsync($"/api/v1/gateways/{clusterId}", new { memberConcurrencyLimit = 0 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var cluster = await _host.GetAsync($"/api/v1/gateways/{clusterId}");
        Assert.True(cluster.GetProperty("distributeRequests").GetBoolean());
        Assert.Equal(3, cluster.GetProperty("memberConcurrencyLimit").GetInt32());
    }

    [Fact]
    public async Task CreateDataSource_ClearCredentials_StoresEnvelopeOnlyTheClusterKeyOpens()
    {
        var (clusterId, _, key) = await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "northwind",
            type = "postgresql",
            connection = new { host = "127.0.0.1", port = 5432, database = "northwind" },
            credentials = new { username = "u", password = "p4ssw0rd-x" },
        });

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain("p4ssw0rd-x", text, StringComparison.Ordinal);
        var created = JsonDocument.Parse(text).RootElement;
        Assert.Equal("encrypted", created.GetProperty("credentials").GetString());
        Assert.Equal(5432, created.GetProperty("connection").GetProperty("port").GetInt32());
        var store = _host.Services.GetRequiredService<GatewayStore>();
        var stored = Assert.Single(await store.ListDataSourcesAsync(clusterId, default));
        var clear = GatewayEnvelope.Open(key, stored.EncryptedCredentials, GatewayOperations.CredentialsAssociatedData(clusterId));
        Assert.Contains("p4ssw0rd-x", Encoding.UTF8.GetString(clear), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateDataSource_EncryptedCredentialsMadeByClient_AreStoredAsGiven()
    {
        var (clusterId, _, key) = await _host.CreateClusterAsync("hq");
        var publicKey = (await _host.GetAsync($"/api/v1/gateways/{clusterId}")).GetProperty("publicKey").GetString()!;
        using var rsa = GatewayEnvelope.ImportPublicKey(publicKey);
        var envelope = GatewayEnvelope.Seal(rsa, "{\"username\":\"u\",\"password\":\"p\"}"u8, GatewayOperations.CredentialsAssociatedData(clusterId));
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "files",
            type = "sqlite",
            connection = new { path = "/srv/data.db" },
            encryptedCredentials = envelope,
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var store = _host.Services.GetRequiredService<GatewayStore>();
        Assert.Equal(envelope, Assert.Single(await store.ListDataSourcesAsync(clusterId, default)).EncryptedCredentials);
    }

    [Theory]
    [InlineData("{\"name\":\"a\",\"type\":\"oracle\",\"connection\":{\"host\":\"h\",\"database\":\"d\"},\"credentials\":{\"username\":\"u\",\"password\":\"p\"}}", "type")]
    [InlineData("{\"name\":\"a\",\"type\":\"postgresql\",\"connection\":{\"host\":\"h\"},\"credentials\":{\"username\":\"u\",\"password\":\"p\"}}", "connection")]
    [InlineData("{\"name\":\"a\",\"type\":\"postgresql\",\"connection\":{\"host\":\"h\",\"database\":\"d\",\"password\":\"SECRET-IN-WRONG-PLACE\"},\"credentials\":{\"username\":\"u\",\"password\":\"p\"}}", "connection")]
    [InlineData("{\"name\":\"a\",\"type\":\"sqlite\",\"connection\":{},\"credentials\":{\"username\":\"u\",\"password\":\"p\"}}", "connection.path")]
    [InlineData("{\"name\":\"a\",\"type\":\"postgresql\",\"connection\":{\"host\":\"h\",\"database\":\"d\"}}", "credentials")]
    [InlineData("{\"name\":\"a\",\"type\":\"postgresql\",\"connection\":{\"host\":\"h\",\"database\":\"d\"},\"credentials\":{\"username\":\"u\",\"password\":\"p\",\"token\":\"t\"}}", "credentials")]
    [InlineData("{\"name\":\"a\",\"type\":\"postgresql\",\"connection\":{\"host\":\"h\",\"database\":\"d\"},\"encryptedCredentials\":\"bm90IGFuIGVudmVsb3Bl\"}", "encryptedCredentials")]
    public async Task CreateDataSource_BadBody_Returns400NamingFieldWithoutEchoingSecrets(string body, string field)
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsync($"/api/v1/gateways/{clusterId}/datasources", new StringContent(body, Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
        Assert.DoesNotContain("SECRET-IN-WRONG-PLACE", text, StringComparison.Ordinal);
        Assert.Empty((await _host.GetAsync($"/api/v1/gateways/{clusterId}/datasources")).EnumerateArray());
    }

    [Fact]
    public async Task Bind_EnvironmentInOtherGeography_Returns400SayingWhy()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("eu", geography: "europe");
        var source = await CreateSqliteSourceAsync(clusterId);
        var environment = await DefaultEnvironmentAsync();
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources/{source}/bindings", new { environment });

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("serves geography 'europe'", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_SameGeography_ReturnsDataApiUrlAndUnboundQueryWithoutAgentsIs503NamingCluster()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        var source = await CreateSqliteSourceAsync(clusterId);
        var environment = await DefaultEnvironmentAsync();
        using var client = _host.Client(_host.AdminToken);

        var response = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources/{source}/bindings", new { environment });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var url = body.GetProperty("dataApiUrl").GetString()!;
        var query = await client.GetAsync(url + "Artist");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.EndsWith("/environments/default/gateway/files/api/data/v9.2/", url, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, query.StatusCode);
        var error = (await query.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("GatewayUnavailable", error.GetProperty("code").GetString());
        Assert.Contains("'hq'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A cluster "hq" (no member online) with a SQLite data source bound to the default environment.</summary>
    private async Task<(Guid ClusterId, Guid Source, string DataApiUrl)> BoundSourceAsync()
    {
        var (clusterId, _, _) = await _host.CreateClusterAsync("hq");
        var source = await CreateSqliteSourceAsync(clusterId);
        var environment = await DefaultEnvironmentAsync();
        using var client = _host.Client(_host.AdminToken);
        var bound = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources/{source}/bindings", new { environment });
        Assert.Equal(HttpStatusCode.Created, bound.StatusCode);
        return (clusterId, source, (await bound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dataApiUrl").GetString()!);
    }

    [Fact]
    public async Task DataApi_DataSourceDeleted_NextRequestIs404AtOnce()
    {
        var (clusterId, source, url) = await BoundSourceAsync();
        using var client = _host.Client(_host.AdminToken);

        // The binding is now remembered by the request path (no member online: 503 naming the cluster).
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(url + "Artist")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/gateways/{clusterId}/datasources/{source}")).StatusCode);
        var after = await client.GetAsync(url + "Artist");

        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task DataApi_NoOrBadTokenIs401_OtherMethodIs405_LiteralsMatchInAnyCase()
    {
        var (_, _, url) = await BoundSourceAsync();
        using var admin = _host.Client(_host.AdminToken);
        using var anonymous = _host.Client(null);
        using var forged = _host.Client("cwt_forged");

        var none = await anonymous.GetAsync(url + "Artist");
        var unknown = await forged.GetAsync(url + "Artist");
        var post = await admin.PostAsJsonAsync(url + "Artist", new { Name = "x" });
        var upperCase = await admin.GetAsync(url.Replace("/gateway/", "/GATEWAY/", StringComparison.Ordinal).Replace("/api/data/", "/API/Data/", StringComparison.Ordinal) + "Artist");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("The bearer token is not valid.", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);

        // No member is online: reaching the cluster at all (503 naming it) shows the request was recognised.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upperCase.StatusCode);
        Assert.Contains("'hq'", (await upperCase.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataApi_UnknownDataSourceOrOtherTenant_Returns404()
    {
        var other = await _host.CreateTenantAsync("other");
        using var client = _host.Client(other);

        var response = await client.GetAsync("/environments/default/gateway/nothing/api/data/v9.2/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("error", out _));
    }

    [Fact]
    public async Task AgentEndpoint_BadCredential_Returns401()
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, c, ch, e) => _host.Trust.Validate(c, ch, e);
        socket.Options.SetRequestHeader("Authorization", "GatewayMember gwm_nope");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"wss://{_host.BaseAddress.Authority}/gateway/connect"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    private async Task<Guid> CreateSqliteSourceAsync(Guid clusterId)
    {
        using var client = _host.Client(_host.AdminToken);
        var response = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "files",
            type = "sqlite",
            connection = new { path = "/srv/chinook.db" },
            credentials = new { username = "", password = "" },
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<Guid> DefaultEnvironmentAsync() =>
        (await _host.GetAsync("/api/v1/environments")).EnumerateArray().First(e => e.GetProperty("name").GetString() == "default").GetProperty("id").GetGuid();
}
