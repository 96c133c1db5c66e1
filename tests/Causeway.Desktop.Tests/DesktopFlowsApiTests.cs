using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Causeway.Relay.Client;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Causeway.Desktop.Tests;

public sealed class DesktopFlowsApiTests : IAsyncLifetime
{
    private const string Flow = """
        {
          "schemaVersion": 1,
          "name": "shout",
          "inputs": [{"name": "text", "type": "string", "required": true}],
          "outputs": [{"name": "loud", "type": "string"}],
          "actions": [{"id": "up", "type": "text.upper", "text": "%text%", "result": "loud"}]
        }
        """;

    private readonly TempFolder _folder = new("causeway-desktop");
    private WebApplication _app = null!;
    private string _adminToken = "";
    private CertificateTrust _trust = null!;
    private Uri _baseAddress = null!;
    private Guid _environment;

    public async Task InitializeAsync()
    {
        _app = await CausewayServer.BuildAsync(["--data-dir", _folder.Path, "--port", "0"],
            builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Server:RelayPort"] = "0" }));
        await _app.StartAsync();
        _baseAddress = new Uri(CausewayServer.ReadyUrl(_app));
        _adminToken = File.ReadAllText(Path.Combine(_folder.Path, "admin-token")).Trim();
        _trust = CertificateTrust.FromFile(Path.Combine(_folder.Path, "certificate.pem"));
        using var admin = Client(_adminToken);
        var environments = await admin.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        _environment = environments.EnumerateArray().First().GetProperty("id").GetGuid();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task CreateDesktopFlow_Valid_StoredAndListed()
    {
        using var admin = Client(_adminToken);

        var created = await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json"));
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var list = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{_environment}/desktopflows");
        var one = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{_environment}/desktopflows/{body.GetProperty("id").GetGuid()}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("shout", body.GetProperty("name").GetString());
        Assert.Equal("text", body.GetProperty("inputs")[0].GetProperty("name").GetString());
        Assert.Equal("string", body.GetProperty("outputs")[0].GetProperty("type").GetString());
        Assert.Equal("shout", Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal("text.upper", one.GetProperty("definition").GetProperty("actions")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task CreateDesktopFlow_Invalid_400WithPathLineAndColumnAndNothingStored()
    {
        using var admin = Client(_adminToken);
        var invalid = Flow.Replace("text.upper", "text.shout", StringComparison.Ordinal);

        var response = await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(invalid, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var list = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{_environment}/desktopflows");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("$.actions[0].type", error.GetProperty("path").GetString());
        Assert.Equal(6, error.GetProperty("line").GetInt32());
        Assert.Equal(36, error.GetProperty("column").GetInt32());
        Assert.Empty(list.EnumerateArray());
    }

    [Fact]
    public async Task CreateDesktopFlow_DuplicateName_409()
    {
        using var admin = Client(_adminToken);
        await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json"));

        var again = await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task DesktopFlowsAndMachines_OtherTenant_404()
    {
        using var admin = Client(_adminToken);
        var created = await (await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<JsonElement>();
        using var other = Client(await CreateTenantAsync("other"));

        var list = await other.GetAsync($"/api/v1/environments/{_environment}/desktopflows");
        var one = await other.GetAsync($"/api/v1/environments/{_environment}/desktopflows/{created.GetProperty("id").GetGuid()}");
        var post = await other.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json"));
        var machines = await other.GetAsync($"/api/v1/environments/{_environment}/machines");

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound], [list.StatusCode, one.StatusCode, post.StatusCode, machines.StatusCode]);
    }

    [Fact]
    public async Task DeleteDesktopFlow_Existing_Gone()
    {
        using var admin = Client(_adminToken);
        var created = await (await admin.PostAsync($"/api/v1/environments/{_environment}/desktopflows", new StringContent(Flow, Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<JsonElement>();
        var path = $"/api/v1/environments/{_environment}/desktopflows/{created.GetProperty("id").GetGuid()}";

        var deleted = await admin.DeleteAsync(path);
        var after = await admin.GetAsync(path);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task RegisterMachine_PublicKey_ListenCredentialsOpenAListenerOnItsHybridConnection()
    {
        using var admin = Client(_adminToken);
        using var key = RSA.Create(3072);

        var response = await admin.PostAsJsonAsync($"/api/v1/environments/{_environment}/machines", new { name = "robot-1", publicKey = key.ExportSubjectPublicKeyInfoPem() });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var listen = body.GetProperty("listen");
        var relay = new Uri(CausewayServer.RelayUrl(_app));
        var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder.Path, "certificate.pem"));
        var options = new RelayClientOptions { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(certificate) };
        await using var listener = new HybridConnectionListener(relay, listen.GetProperty("path").GetString()!, listen.GetProperty("keyName").GetString()!,
            listen.GetProperty("key").GetString()!, options);
        await listener.OpenAsync(CancellationToken.None);

        var machines = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{_environment}/machines");
        var machine = Assert.Single(machines.EnumerateArray());
        Assert.Equal("robot-1", machine.GetProperty("name").GetString());
        Assert.Equal("online", machine.GetProperty("status").GetString());
        Assert.Equal($"sb://localhost:{relay.Port}/", listen.GetProperty("endpoint").GetString());
        Assert.DoesNotContain(listen.GetProperty("key").GetString()!, machines.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterMachine_ListenKey_CannotSend()
    {
        using var admin = Client(_adminToken);
        using var key = RSA.Create(3072);
        var body = await (await admin.PostAsJsonAsync($"/api/v1/environments/{_environment}/machines", new { name = "robot", publicKey = key.ExportSubjectPublicKeyInfoPem() }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var listen = body.GetProperty("listen");
        var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder.Path, "certificate.pem"));
        var options = new RelayClientOptions { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(certificate) };
        using var sender = new HybridConnectionClient(new Uri(CausewayServer.RelayUrl(_app)), listen.GetProperty("path").GetString()!, listen.GetProperty("keyName").GetString()!,
            listen.GetProperty("key").GetString()!, options);

        await Assert.ThrowsAnyAsync<Exception>(() => sender.CreateConnectionAsync(cancellationToken: CancellationToken.None));
    }

    [Theory]
    [InlineData("", "name")]
    [InlineData("robot", "publicKey")]
    public async Task RegisterMachine_BadRequest_400NamingTheField(string name, string field)
    {
        using var admin = Client(_adminToken);
        using var small = RSA.Create(1024);

        var response = await admin.PostAsJsonAsync($"/api/v1/environments/{_environment}/machines", new { name, publicKey = field == "publicKey" ? small.ExportSubjectPublicKeyInfoPem() : null });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task MachineMaintenanceAndRemoval_ChangeStatusThenDeleteTheHybridConnection()
    {
        using var admin = Client(_adminToken);
        using var key = RSA.Create(3072);
        var body = await (await admin.PostAsJsonAsync($"/api/v1/environments/{_environment}/machines", new { name = "robot", publicKey = key.ExportSubjectPublicKeyInfoPem() }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("machine").GetProperty("id").GetGuid();
        var path = $"/api/v1/environments/{_environment}/machines/{id}";

        var patched = await (await admin.PatchAsJsonAsync(path, new { maintenance = true })).Content.ReadFromJsonAsync<JsonElement>();
        var duplicate = await admin.PostAsJsonAsync($"/api/v1/environments/{_environment}/machines", new { name = "robot", publicKey = key.ExportSubjectPublicKeyInfoPem() });
        var deleted = await admin.DeleteAsync(path);
        var relay = await admin.GetAsync($"/api/v1/relay/hybridconnections/{body.GetProperty("listen").GetProperty("path").GetString()}");

        Assert.Equal("maintenance", patched.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, relay.StatusCode);
    }

    private HttpClient Client(string token)
    {
        var client = new HttpClient(_trust.CreateHandler()) { BaseAddress = _baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<string> CreateTenantAsync(string name)
    {
        using var admin = Client(_adminToken);
        var response = await admin.PostAsJsonAsync("/api/v1/tenants", new { name, administrator = "boss" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}
