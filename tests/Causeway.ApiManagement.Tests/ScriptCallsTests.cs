using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Causeway.ApiManagement.Tests;

/// <summary>
/// A server whose script time limit is lowered, a recording backend, and connectors with custom code: two real
/// packages (Data8 rewrites the request, SignHost the answer) and one written here to misbehave.
/// </summary>
public sealed class ScriptFixture : IAsyncLifetime
{
    public const double LimitSeconds = 3;

    public TestBackend Backend { get; private set; } = null!;

    public ServerHost Host { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public Guid Environment { get; private set; }

    public Dictionary<string, string> Names { get; } = [];

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ApiManagement:ScriptTimeoutSeconds"] = LimitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ApiManagement:BackendTimeoutSeconds"] = "5",
            ["ApiManagement:RetryBaseDelayMilliseconds"] = "5",
        };
        foreach (var host in new[] { "webservices.data-8.co.uk", "api.signhost.com", "scripted.example.test" })
        {
            settings[$"ApiManagement:BackendOverrides:{host}"] = Backend.BaseUrl;
        }

        Host = await ServerHost.StartAsync(settings);
        Admin = Host.Client(Host.AdminToken);
        var environments = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/environments");
        Environment = environments.EnumerateArray().First(e => e.GetProperty("type").GetString() == "default").GetProperty("id").GetGuid();
        foreach (var (key, body) in new (string, object)[] { ("data8", TestConnectors.Carried("Data8", withScript: true)), ("signhost", TestConnectors.Carried("SignHost", withScript: true)), ("scripted", Scripted()) })
        {
            var response = await Admin.PostAsJsonAsync("/api/v1/connectors", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"importing {key}: {await response.Content.ReadAsStringAsync()}");
            Names[key] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
        }
    }

    public async Task<string> ConnectAsync(string connector, object parameters)
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/environments/{Environment}/connections", new { connector = Names[connector], parameters });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a connection: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>An API-key connector whose custom code loops, recurses, throws or forwards, by operation.</summary>
    public static object Scripted(string? script = null) => TestConnectors.Body(
        """
            {
              "swagger": "2.0",
              "info": { "title": "Scripted", "version": "1.0" },
              "host": "scripted.example.test",
              "schemes": ["https"],
              "securityDefinitions": { "key": { "type": "apiKey", "in": "header", "name": "X-Key" } },
              "paths": {
                "/loop": { "get": { "operationId": "Loop", "responses": { "200": { "description": "ok" } } } },
                "/deep": { "get": { "operationId": "Deep", "responses": { "200": { "description": "ok" } } } },
                "/fail": { "get": { "operationId": "Fail", "responses": { "200": { "description": "ok" } } } },
                "/echo": { "get": { "operationId": "Echo", "responses": { "200": { "description": "ok" } } } }
              }
            }
            """,
        """
            { "properties": { "connectionParameters": { "api_key": { "type": "securestring", "uiDefinition": { "displayName": "Key", "constraints": { "required": "true" } } } } } }
            """,
        script ?? """
            public class Script : ScriptBase
            {
                public override async Task<HttpResponseMessage> ExecuteAsync()
                {
                    switch (Context.OperationId)
                    {
                        case "Loop":
                            while (true) { }
                        case "Deep":
                            return new HttpResponseMessage((HttpStatusCode)Depth(0));
                        case "Fail":
                            throw new InvalidOperationException("refused key " + Context.Request.Headers.GetValues("X-Key").First());
                        default:
                            var response = await Context.SendAsync(Context.Request, CancellationToken);
                            response.Headers.Add("X-Script", Context.OperationId + " " + Context.OriginalRequestUri.AbsolutePath);
                            return response;
                    }
                }

                // Not a tail call: the stack grows until the host's check stops it.
                private int Depth(int depth) => Depth(depth + 1) + 1;
            }
            """);

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Host.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

/// <summary>Operations served by custom code, called through /apim.</summary>
public sealed class ScriptCallsTests(ScriptFixture fixture) : IClassFixture<ScriptFixture>
{
    [Fact]
    public async Task Data8_IsValidEmail_ScriptRewritesRequestAndAnswer()
    {
        var connection = await fixture.ConnectAsync("data8", new { api_key = "data8-key-canary-5e1f" });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"Status":{"Success":true},"Result":"Valid"}""");
        };
        using var body = new StringContent("""{"email":"ann@example.com"}""", Encoding.UTF8, "application/json");

        var response = await fixture.Admin.PostAsync($"/apim/{fixture.Names["data8"]}/{connection}/EmailValidation/IsValid.json", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\n  \"Status\": {\n    \"Success\": true\n  },\n  \"Result\": \"Valid\"\n}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var received = fixture.Backend.Single();
        Assert.Equal("POST", received.Method);
        Assert.Equal("webservices.data-8.co.uk", received.Host);
        Assert.Equal("/EmailValidation/IsValid.json?key=data8-key-canary-5e1f", received.Target);
        Assert.Equal("{\n  \"email\": \"ann@example.com\",\n  \"options\": {\n    \"ApplicationName\": \"Power Automate\"\n  },\n  \"key\": \"data8-key-canary-5e1f\"\n}", received.BodyText);
        Assert.Equal("application/json; charset=utf-8", received.Header("Content-Type"));
    }

    [Fact]
    public async Task SignHost_Getdetails_PoliciesApplyThenScriptTurnsFilesIntoAList()
    {
        var connection = await fixture.ConnectAsync("signhost", new { api_key = "APIKey signhost-canary-77c2" });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"Id":"t1","Files":{"contract.pdf":{"Links":[{"Rel":"file","Link":"https://x.example/f"}]}}}""");
        };

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["signhost"]}/{connection}/api/transaction/t1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            "{\n  \"Id\": \"t1\",\n  \"Files\": [\n    {\n      \"Links\": [\n        {\n          \"Rel\": \"file\",\n          \"Link\": \"https://x.example/f\"\n        }\n      ],\n      \"DisplayName\": \"contract.pdf\"\n    }\n  ]\n}",
            await response.Content.ReadAsStringAsync());
        var received = fixture.Backend.Single();
        Assert.Equal("GET", received.Method);
        Assert.Equal("api.signhost.com", received.Host);
        Assert.Equal("/api/transaction/t1", received.Target);
        Assert.Equal("APIKey signhost-canary-77c2", received.Header("Authorization"));
        Assert.Equal("APPKey cO7F4VfIA3PmmSac O1Jt0io6QfFpcBdkQEFxnUJlkxplaEmS", received.Header("Application"));
        Assert.Equal("application/vnd.signhost.v1+json", received.Header("Accept"));
    }

    [Fact]
    public async Task Scripted_Echo_ForwardsThroughBackendClientAndAddsHeader()
    {
        var connection = await fixture.ConnectAsync("scripted", new { api_key = "scripted-key-canary-3a9d" });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = TestBackend.Ok;

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted"]}/{connection}/echo");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
        Assert.Equal($"Echo /apim/{fixture.Names["scripted"]}/{connection}/echo", response.Headers.GetValues("X-Script").Single());
        var received = fixture.Backend.Single();
        Assert.Equal(("scripted.example.test", "/echo", "scripted-key-canary-3a9d"), (received.Host, received.Target, received.Header("X-Key")));
    }

    [Fact]
    public async Task Scripted_EndlessLoop_Answers504AtTheLimitAndServerStaysHealthy()
    {
        var connection = await fixture.ConnectAsync("scripted", new { api_key = "scripted-key-canary-3a9d" });
        var watch = Stopwatch.StartNew();

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted"]}/{connection}/loop");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(ScriptFixture.LimitSeconds + 10), $"answered after {watch.Elapsed}");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"The custom code (script.csx) of connector '{fixture.Names["scripted"]}' did not finish operation 'Loop' within 3 s (ApiManagement:ScriptTimeoutSeconds).",
            problem.GetProperty("detail").GetString());
        await AssertHealthyAsync(connection);
    }

    [Fact]
    public async Task Scripted_EndlessRecursion_Answers502AndServerStaysHealthy()
    {
        var connection = await fixture.ConnectAsync("scripted", new { api_key = "scripted-key-canary-3a9d" });

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted"]}/{connection}/deep");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.StartsWith($"The custom code (script.csx) of connector '{fixture.Names["scripted"]}' failed in operation 'Deep': InsufficientExecutionStackException: ", detail, StringComparison.Ordinal);
        await AssertHealthyAsync(connection);
    }

    [Fact]
    public async Task Scripted_Throws_Answers502WithTypeAndMessageSecretMasked()
    {
        var connection = await fixture.ConnectAsync("scripted", new { api_key = "scripted-key-canary-3a9d" });

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted"]}/{connection}/fail");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal($"The custom code (script.csx) of connector '{fixture.Names["scripted"]}' failed in operation 'Fail': InvalidOperationException: refused key ***",
            JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("canary", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_ScriptUsingFileSystem_Answers400NamingScriptPositionAndSymbol()
    {
        var script = """
            public class Script : ScriptBase
            {
                public override Task<HttpResponseMessage> ExecuteAsync()
                {
                    var text = System.IO.File.ReadAllText("/etc/passwd");
                    return Task.FromResult(new HttpResponseMessage());
                }
            }
            """;

        var response = await fixture.Admin.PostAsJsonAsync("/api/v1/connectors", ScriptFixture.Scripted(script));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("script.csx: 5:35: 'System.IO.File' is not allowed: the file system is not for custom code", problem.GetProperty("detail").GetString());
        Assert.Equal("script.csx", problem.GetProperty("file").GetString());
        Assert.Equal("5:35", problem.GetProperty("jsonPath").GetString());
    }

    private async Task AssertHealthyAsync(string connection)
    {
        fixture.Backend.Respond = TestBackend.Ok;
        var echo = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted"]}/{connection}/echo");
        Assert.Equal(HttpStatusCode.OK, echo.StatusCode);
    }
}
