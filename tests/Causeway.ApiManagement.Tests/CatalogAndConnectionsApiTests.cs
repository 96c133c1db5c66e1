using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Causeway.ApiManagement.Tests;

/// <summary>The connector catalog and the connections REST API: shapes, validation, secrets never returned.</summary>
[Collection("apim")]
public sealed class CatalogAndConnectionsApiTests(ApimFixture fixture)
{
    private static string Id(JsonElement connection) => connection.GetProperty("id").GetString()!;

    [Fact]
    public async Task ListConnectors_BuiltInsAndImported()
    {
        var list = await fixture.Admin.GetFromJsonAsync<JsonElement>("/api/v1/connectors");

        var names = list.EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("http", names);
        Assert.Contains("sql-gateway", names);
        Assert.Contains(fixture.Names["deepl"], names);
        Assert.Contains("widgets", names);
    }

    [Fact]
    public async Task GetConnector_Imported_OperationsAndClassification()
    {
        var widgets = await fixture.Admin.GetFromJsonAsync<JsonElement>("/api/v1/connectors/widgets");

        Assert.Equal("Widgets", widgets.GetProperty("displayName").GetString());
        var operations = widgets.GetProperty("operations").EnumerateArray()
            .Select(o => $"{o.GetProperty("operationId").GetString()} {o.GetProperty("method").GetString()} {o.GetProperty("path").GetString()}").ToList();
        Assert.Equal(["ListWidgets GET /widgets", "CreateWidget POST /widgets", "GetWidget GET /widgets/{id}", "Slow GET /slow"], operations);
        Assert.False(widgets.GetProperty("classification").GetProperty("firstParty").GetBoolean());
        Assert.Contains("Contoso", widgets.GetProperty("classification").GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportConnector_InvalidPackage_400NamingFileAndPath()
    {
        var response = await fixture.Admin.PostAsJsonAsync("/api/v1/connectors", new { apiDefinition = "not an object", apiProperties = new { } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("apiDefinition.swagger.json", problem.GetProperty("file").GetString());
        Assert.Equal("$", problem.GetProperty("jsonPath").GetString());
        Assert.StartsWith("apiDefinition.swagger.json: $:", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportConnector_Zip_CreatedWithUniqueNameThenDeleted()
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in new[] { "apiDefinition.swagger.json", "apiProperties.json" })
            {
                var entry = archive.CreateEntry("JIRA/" + file);
                await using var stream = entry.Open();
                await stream.WriteAsync(await File.ReadAllBytesAsync(Path.Combine(TestConnectors.Folder("JIRA"), file)));
            }
        }

        using var content = new ByteArrayContent(zip.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        var created = await fixture.Admin.PostAsync("/api/v1/connectors", content);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var name = body.GetProperty("name").GetString()!;
        var deleted = await fixture.Admin.DeleteAsync($"/api/v1/connectors/{name}");
        var gone = await fixture.Admin.GetAsync($"/api/v1/connectors/{name}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith(fixture.Names["jira"] + "-", name, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task DeleteConnector_InUseOrBuiltIn_409()
    {
        await fixture.WidgetsConnectionAsync();

        var inUse = await fixture.Admin.DeleteAsync("/api/v1/connectors/widgets");
        var builtIn = await fixture.Admin.DeleteAsync("/api/v1/connectors/http");

        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, builtIn.StatusCode);
    }

    [Fact]
    public async Task GetConnection_SecretsNeverReturnedNorStoredInClear()
    {
        const string Canary = "widget-key-canary-for-storage-3f81";
        var created = await fixture.WidgetsConnectionAsync(key: Canary);

        var one = await fixture.Admin.GetStringAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(created)}");
        var list = await fixture.Admin.GetStringAsync($"/api/v1/environments/{fixture.Environment}/connections");
        var parsed = JsonDocument.Parse(one).RootElement;

        Assert.DoesNotContain(Canary, created.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, one, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, list, StringComparison.Ordinal);
        Assert.Equal("contoso", parsed.GetProperty("parameters").GetProperty("tenant").GetString());
        Assert.Equal(["api_key"], parsed.GetProperty("secretParameters").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("Connected", parsed.GetProperty("status").GetString());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(fixture.Host.DataDirectory, "platform.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            Assert.DoesNotContain(Canary, await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }

        var key = Path.Combine(fixture.Host.DataDirectory, "master.key");
        Assert.True(File.Exists(key));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
    }

    [Fact]
    public async Task CreateConnection_BadInput_400NamingTheParameter()
    {
        var url = $"/api/v1/environments/{fixture.Environment}/connections";

        var missing = await fixture.Admin.PostAsJsonAsync(url, new { connector = "widgets", parameters = new { tenant = "x" } });
        var unknown = await fixture.Admin.PostAsJsonAsync(url, new { connector = "widgets", parameters = new { api_key = "k", tenant = "x", colour = "red" } });
        var noConnector = await fixture.Admin.PostAsJsonAsync(url, new { connector = "nope" });
        var gateway = await fixture.Admin.PostAsJsonAsync(url, new { connector = "sql-gateway", parameters = new { server = "s", database = "d", username = "u", password = "p" } });
        var otherEnvironment = await fixture.Admin.PostAsJsonAsync($"/api/v1/environments/{Guid.NewGuid()}/connections", new { connector = "widgets" });

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("'api_key'", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("no connection parameter 'colour'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noConnector.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, gateway.StatusCode);
        Assert.Contains("give \"gateway\"", (await gateway.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, otherEnvironment.StatusCode);
    }

    [Fact]
    public async Task TestConnection_BackendAcceptsOrRefuses_ConnectedOrErrorWithReason()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        var url = $"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}/test";
        fixture.Backend.Respond = TestBackend.Ok;

        var ok = await (await fixture.Admin.PostAsync(url, null)).Content.ReadFromJsonAsync<JsonElement>();
        fixture.Backend.Respond = context =>
        {
            context.Response.StatusCode = 401;
            return Task.CompletedTask;
        };
        var refused = await (await fixture.Admin.PostAsync(url, null)).Content.ReadFromJsonAsync<JsonElement>();
        var stored = await fixture.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");

        Assert.Equal("Connected", ok.GetProperty("status").GetString());
        Assert.Equal("Error", refused.GetProperty("status").GetString());
        Assert.Equal("operation 'ListWidgets' refused the connection's credentials (401)", refused.GetProperty("reason").GetString());
        Assert.Equal("Error", stored.GetProperty("status").GetString());
    }

    [Fact]
    public async Task DeleteConnection_Owner_GoneAndCallsAnswer404()
    {
        var connection = await fixture.WidgetsConnectionAsync();

        var deleted = await fixture.Admin.DeleteAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");
        var call = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
    }
}
