using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Causeway.ApiManagement.Tests;

/// <summary>Calls through /apim with real connector packages and their policy templates; asserts what the backend received and what the caller got.</summary>
[Collection("apim")]
public sealed class RuntimeTests(ApimFixture fixture)
{
    private static string Id(JsonElement connection) => connection.GetProperty("id").GetString()!;

    private Task<JsonElement> DeepLAsync() => fixture.ConnectAsync(fixture.Admin, new
    {
        connector = fixture.Names["deepl"],
        parameters = new { api_key = "deepl-key-canary-71aa", environment = "https://api-free.deepl.com/v2" },
    });

    [Fact]
    public async Task DeepL_ListGlossaryLanguages_ApiKeyRewrittenByPolicyAndAnswerPassedThrough()
    {
        var connection = await DeepLAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.Headers["X-Backend"] = "deepl";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"supported_languages\":[{\"source_lang\":\"de\",\"target_lang\":\"en\"}]}");
        };

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["deepl"]}/{Id(connection)}/glossary-language-pairs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"supported_languages\":[{\"source_lang\":\"de\",\"target_lang\":\"en\"}]}", await response.Content.ReadAsStringAsync());
        Assert.Equal("deepl", response.Headers.GetValues("X-Backend").Single());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var received = fixture.Backend.Single();
        Assert.Equal("GET", received.Method);
        Assert.Equal("api-free.deepl.com", received.Host);
        Assert.Equal("/v2/glossary-language-pairs", received.Target);
        Assert.Equal("DeepL-Auth-Key deepl-key-canary-71aa", received.Header("Authorization"));
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains("cwt_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeepL_TranslateFormBody_BodyAndContentTypeReachBackendUnchanged()
    {
        var connection = await DeepLAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = TestBackend.Ok;
        using var content = new StringContent("text=Hallo%20Welt&target_lang=EN-US", Encoding.UTF8, "application/x-www-form-urlencoded");

        var response = await fixture.Admin.PostAsync($"/apim/{fixture.Names["deepl"]}/{Id(connection)}/translate", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Backend.Single();
        Assert.Equal("POST", received.Method);
        Assert.Equal("/v2/translate", received.Target);
        Assert.Equal("text=Hallo%20Welt&target_lang=EN-US", received.BodyText);
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", received.Header("Content-Type"));
    }

    [Fact]
    public async Task Jira_ListProjects_RoutedByPolicyWithBasicCredentials()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["jira"],
            parameters = new { jirainstance = "acme", username = "ann@example.com", password = "jira-pass-canary-0b3e" },
        });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = TestBackend.Ok;

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["jira"]}/{Id(connection)}/project");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Backend.Single();
        Assert.Equal("acme.atlassian.net", received.Host);
        Assert.Equal("/rest/api/2/project", received.Target);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann@example.com:jira-pass-canary-0b3e")), received.Header("Authorization"));
    }

    [Fact]
    public async Task AlisQI_GetResults_DynamicSubdomainQueryAndDeclaredHeader()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["alisqi"],
            parameters = new { subdomain = "contoso", api_key = "alisqi-key-canary" },
        });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = TestBackend.Ok;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apim/{fixture.Names["alisqi"]}/{Id(connection)}/getResults?setId=7&limit=2");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Add("X-Not-Declared", "stays-here");

        var response = await fixture.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Backend.Single();
        Assert.Equal("contoso.alisqi.com", received.Host);
        Assert.Equal("/api/getResults?setId=7&limit=2&offset=0&sort=date%3Adesc&includeAttachments=false&includeId=false&includeLastModificationDate=false", received.Target);
        Assert.Equal("alisqi-key-canary", received.Header("Authorization"));
        Assert.Equal("application/json", received.Header("Accept"));
        Assert.Null(received.Header("X-Not-Declared"));
    }

    [Fact]
    public async Task AlisQI_WrongParameterType_400NamingItAndNoBackendCall()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["alisqi"],
            parameters = new { subdomain = "contoso", api_key = "k" },
        });
        fixture.Backend.Received.Clear();

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["alisqi"]}/{Id(connection)}/getResults?setId=seven");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("query parameter 'setId' must be of type integer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(fixture.Backend.Received);
    }

    [Fact]
    public async Task Jira_CreateIssueWithoutProjectKey_400NamingTheParameterAndNoBackendCall()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["jira"],
            parameters = new { jirainstance = "acme", username = "ann@example.com", password = "p" },
        });
        fixture.Backend.Received.Clear();
        using var content = new StringContent("{\"fields\":{}}", Encoding.UTF8, "application/json");

        var response = await fixture.Admin.PostAsync($"/apim/{fixture.Names["jira"]}/{Id(connection)}/issue", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("query parameter 'projectKey' is required", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(fixture.Backend.Received);
    }

    [Fact]
    public async Task Widgets_GetWithQuery_KeyInQueryHeaderFromParameterAndResponsePolicyHeader()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("red widgets");
        };

        var response = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets?color=red");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("red widgets", await response.Content.ReadAsStringAsync());
        Assert.Equal("causeway", response.Headers.GetValues("X-Served-By").Single());
        var received = fixture.Backend.Single();
        Assert.Equal("widgets.example.test", received.Host);
        Assert.Equal("/api/widgets?color=red&code=widget-key-canary-9d2c", received.Target);
        Assert.Equal("contoso", received.Header("X-Tenant"));
        Assert.Null(received.Header("Authorization"));
    }

    [Fact]
    public async Task Widgets_PostJson_BodyBytesStatusAndLocationPassThrough()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.StatusCode = 201;
            context.Response.Headers.Location = "https://widgets.example.test/api/widgets/42";
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"id\": 42}");
        };
        const string Json = "{ \"name\" : \"sprocket\",\n  \"size\": 3 }";
        using var content = new StringContent(Json, Encoding.UTF8, "application/json");

        var response = await fixture.Admin.PostAsync($"/apim/widgets/{Id(connection)}/widgets", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("https://widgets.example.test/api/widgets/42", response.Headers.Location?.ToString());
        Assert.Equal("{\"id\": 42}", await response.Content.ReadAsStringAsync());
        var received = fixture.Backend.Single();
        Assert.Equal("/api/widgets?code=widget-key-canary-9d2c", received.Target);
        Assert.Equal(Json, received.BodyText);
    }

    [Fact]
    public async Task Tasks_NextLink_PointsBackAtTheConnection()
    {
        var connection = await ClientCredentialsTasksAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"value\":[1,2],\"nextLink\":\"https://tasks.example.test/v1/tasks?page=2\"}");
        };

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"{fixture.Host.BaseAddress.ToString().TrimEnd('/')}/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks?page=2", body.GetProperty("nextLink").GetString());
        Assert.Equal(2, body.GetProperty("value").GetArrayLength());
    }

    [Fact]
    public async Task Tasks_BackendSendsInvalidJson_PassedThroughUnchanged()
    {
        var connection = await ClientCredentialsTasksAsync();
        fixture.Backend.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{not json at all");
        };

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{not json at all", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Open_NoSecurityDefinition_CalledAnonymously()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new { connector = fixture.Names["open"] });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = TestBackend.Ok;

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["open"]}/{Id(connection)}/status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Backend.Single();
        Assert.Equal("open.example.test", received.Host);
        Assert.Equal("/status", received.Target);
        Assert.Null(received.Header("Authorization"));
    }

    private Task<JsonElement> ClientCredentialsTasksAsync() => fixture.ConnectAsync(fixture.Admin, new
    {
        connector = fixture.Names["tasks"],
        oauth = new { grantType = "client_credentials", clientSecret = FakeOAuthServer.ClientSecret },
    });
}
