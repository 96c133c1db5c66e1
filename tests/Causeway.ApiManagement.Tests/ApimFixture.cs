using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Causeway.ApiManagement.Tests;

/// <summary>
/// One Causeway server, one recording backend (which also hosts the OAuth server) and the test connectors imported
/// once. Every connector host is redirected to the backend with ApiManagement:BackendOverrides. Tests create their
/// own connections, so that throttling and state do not leak between them.
/// </summary>
public sealed class ApimFixture : IAsyncLifetime
{
    public const int WidgetsLimit = 5;

    public TestBackend Backend { get; private set; } = null!;

    public FakeOAuthServer OAuth { get; } = new();

    public ServerHost Host { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public Guid Environment { get; private set; }

    public Dictionary<string, string> Names { get; } = [];

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync(OAuth.Map);
        var settings = new Dictionary<string, string?>
        {
            ["ApiManagement:BackendTimeoutSeconds"] = "1",
            ["ApiManagement:RetryBaseDelayMilliseconds"] = "5",
            ["ApiManagement:MaxRequestBodyBytes"] = "4096",
            ["ApiManagement:Throttling:PerConnector:widgets:PermitLimit"] = WidgetsLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ApiManagement:Throttling:PerConnector:widgets:WindowSeconds"] = "60",
        };
        foreach (var host in new[] { "api-free.deepl.com", "acme.atlassian.net", "contoso.alisqi.com", "widgets.example.test", "open.example.test", "tasks.example.test" })
        {
            settings[$"ApiManagement:BackendOverrides:{host}"] = Backend.BaseUrl;
        }

        Host = await ServerHost.StartAsync(settings);
        Admin = Host.Client(Host.AdminToken);
        var environments = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        Environment = environments.EnumerateArray().First(e => e.GetProperty("type").GetString() == "default").GetProperty("id").GetGuid();
        foreach (var (key, body) in new (string, object)[]
        {
            ("deepl", TestConnectors.Carried("DeepL")), ("jira", TestConnectors.Carried("JIRA")), ("alisqi", TestConnectors.Carried("AlisQI")),
            ("widgets", TestConnectors.Widgets()), ("open", TestConnectors.Open()), ("tasks", TestConnectors.OAuth(Backend.BaseUrl)),
            ("scripted-tasks", TestConnectors.OAuth(Backend.BaseUrl, TestConnectors.ForwardingScript)),
        })
        {
            var response = await Admin.PostAsJsonAsync("/api/v1/connectors", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"importing {key}: {await response.Content.ReadAsStringAsync()}");
            Names[key] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
        }
    }

    /// <summary>Creates a connection in the Default environment; asserts 201.</summary>
    public async Task<JsonElement> ConnectAsync(HttpClient client, object body, Guid? environment = null)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/environments/{environment ?? Environment}/connections", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a connection: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<JsonElement> WidgetsConnectionAsync(HttpClient? client = null, string key = "widget-key-canary-9d2c") =>
        ConnectAsync(client ?? Admin, new { connector = "widgets", parameters = new { api_key = key, tenant = "contoso" } });

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Host.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

[CollectionDefinition("apim")]
public sealed class ApimCollection : ICollectionFixture<ApimFixture>;
