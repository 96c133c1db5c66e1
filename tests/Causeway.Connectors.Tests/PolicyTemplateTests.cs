using System.Text;
using System.Text.Json.Nodes;

namespace Causeway.Connectors.Tests;

/// <summary>Real packages with policy templates: the exact backend request and the exact response after policies.</summary>
public sealed class PolicyTemplateTests
{
    private static readonly Dictionary<string, string> PlannerConnection = new() { ["token"] = "tok-1" };

    [Fact]
    public async Task Planner_CreateTaskV3_AssignmentsStringBecomesKeyedObject()
    {
        var planner = TestPackages.Load("Planner");
        var call = await ApimCall.SendAsync(planner, "POST", "/v2/v1.0/planner/tasks", PlannerConnection,
            JsonNode.Parse("""{"planId":"p1","title":"Write docs","assignments":"alice@contoso.com;bob.smith@contoso.com"}"""));

        Assert.Equal("POST", call.Request.Method);
        Assert.Equal("https://graph.microsoft.com/v1.0/planner/tasks", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("Bearer tok-1", call.Request.Headers["Authorization"]);
        Assert.Equal(" return=representation", call.Request.Headers["prefer"]);
        JsonAssert.Equal("""
            {"planId":"p1","title":"Write docs","assignments":{
              "alice%40contoso%2Ecom":{"orderHint":" !","@odata.type":"microsoft.graph.plannerAssignment"},
              "bob%2Esmith%40contoso%2Ecom":{"orderHint":" !","@odata.type":"microsoft.graph.plannerAssignment"}}}
            """, call.Request.Json);

        var response = call.Respond(201, JsonNode.Parse("""{"id":"t1","assignments":{"u1":{"orderHint":"8585"}}}"""));
        JsonAssert.Equal("""
            {"id":"t1","assignments":{"u1":{"orderHint":"8585"}},"_assignments":[{"userId":"u1","value":{"orderHint":"8585"}}]}
            """, response.Json);
    }

    [Fact]
    public async Task Planner_UpdateTaskV3_IfMatchComesFromSideRequest()
    {
        var planner = TestPackages.Load("Planner");
        ApimRequest? sideRequest = null;
        var call = await ApimCall.SendAsync(planner, "PATCH", "/v2/v1.0/planner/tasks/task%201", PlannerConnection,
            JsonNode.Parse("""{"title":"Renamed"}"""),
            side: (r, _) =>
            {
                sideRequest = r;
                return Task.FromResult(new ApimResponse { StatusCode = 200, Json = JsonNode.Parse("""{"id":"task 1","@odata.etag":"W/\"JzEtVGFzayAg\""}""") });
            });

        Assert.NotNull(sideRequest);
        Assert.Equal("GET", sideRequest.Method);
        Assert.Equal("https://graph.microsoft.com/v1.0/planner/tasks/task%201", sideRequest.ToUri().AbsoluteUri);
        Assert.Equal("Bearer tok-1", sideRequest.Headers["Authorization"]);
        Assert.Null(sideRequest.Json);

        Assert.Equal("PATCH", call.Request.Method);
        Assert.Equal("https://graph.microsoft.com/v1.0/planner/tasks/task%201", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("W/\"JzEtVGFzayAg\"", call.Request.Headers["If-Match"]);
        JsonAssert.Equal("""{"title":"Renamed"}""", call.Request.Json);
    }

    [Fact]
    public async Task Planner_UpdateTaskV3_WithoutSideRequestSender_Throws()
    {
        var planner = TestPackages.Load("Planner");
        var e = await Assert.ThrowsAsync<PolicyException>(() => ApimCall.SendAsync(planner, "PATCH", "/v2/v1.0/planner/tasks/t1", PlannerConnection, JsonNode.Parse("{}")));
        Assert.Equal("setvaluefromurl", e.TemplateId);
    }

    [Fact]
    public async Task Planner_ListTasksV3_RoutesAndPointsNextLinkAtFrontend()
    {
        var planner = TestPackages.Load("Planner");
        var call = await ApimCall.SendAsync(planner, "GET", "/v2/v1.0/planner/plans/p1/tasks", PlannerConnection, query: [new("groupId", "g1")]);

        Assert.Equal("https://graph.microsoft.com/v1.0/planner/plans/p1/tasks?groupId=g1", call.Request.ToUri().AbsoluteUri);
        var response = call.Respond(200, JsonNode.Parse("""
            {"value":[{"id":"t1","assignments":{"u1":{"orderHint":"x"}}}],
             "@odata.nextLink":"https://graph.microsoft.com/v1.0/planner/plans/p1/tasks?$skiptoken=abc"}
            """));
        JsonAssert.Equal("""
            {"value":[{"id":"t1","assignments":{"u1":{"orderHint":"x"}},"_assignments":[{"userId":"u1","value":{"orderHint":"x"}}]}],
             "@odata.nextLink":"https://causeway.example/apim/planner/c1/v2/v1.0/planner/plans/p1/tasks?$skiptoken=abc"}
            """, response.Json);
    }

    [Fact]
    public async Task Planner_UpdateTaskDetailsV2_ReferencesArrayBecomesEncodedKeys()
    {
        var planner = TestPackages.Load("Planner");
        var call = await ApimCall.SendAsync(planner, "PATCH", "/v1.0/planner/tasks/t1/details", PlannerConnection,
            JsonNode.Parse("""{"description":"d","references":[{"resourceLink":"https://contoso.com/a.docx#p1","alias":"Spec"}],"checklist":[{"id":"c1","title":"one"}]}"""),
            side: (_, _) => Task.FromResult(new ApimResponse { Json = JsonNode.Parse("""{"@odata.etag":"W/\"e\""}""") }));

        Assert.Equal("https://graph.microsoft.com/v1.0/planner/tasks/t1/details", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("W/\"e\"", call.Request.Headers["If-Match"]);
        JsonAssert.Equal("""
            {"description":"d",
             "references":{"https%3A//contoso%2Ecom/a%2Edocx%23p1":{"alias":"Spec","previewPriority":" !","@odata.type":"microsoft.graph.plannerExternalReference"}},
             "checklist":{"c1":{"title":"one","@odata.type":"microsoft.graph.plannerChecklistItem"}}}
            """, call.Request.Json);

        var response = call.Respond(200, JsonNode.Parse("""
            {"references":{"https%3A//contoso%2Ecom/a%2Edocx%23p1":{"alias":"Spec"}},"checklist":{"c1":{"title":"one"}}}
            """));
        JsonAssert.Equal("""
            {"references":[{"resourceLink":"https://contoso.com/a.docx#p1","value":{"alias":"Spec"}}],
             "checklist":[{"id":"c1","value":{"title":"one"}}]}
            """, response.Json);
    }

    [Fact]
    public async Task Jira_GetIssue_DynamicHostRouteAndBasic()
    {
        var jira = TestPackages.Load("JIRA");
        var call = await ApimCall.SendAsync(jira, "GET", "/issue/ABC-1", new() { ["jirainstance"] = "contoso", ["username"] = "ann", ["password"] = "pw" });

        Assert.Equal("GET", call.Request.Method);
        Assert.Equal("https://contoso.atlassian.net/rest/api/2/issue/ABC-1", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:pw")), call.Request.Headers["Authorization"]);
    }

    [Fact]
    public async Task Hyas_PassiveDns_QueryFromTemplateAndAppendedHeader()
    {
        var hyas = TestPackages.Load("HYASInsight");
        var call = await ApimCall.SendAsync(hyas, "GET", "/passivedns", new() { ["api_key"] = "k-1" },
            query: [new("indicator_type", "domain"), new("indicator_value", "example.com")],
            headers: [new("User-Agent", "flow")]);

        Assert.Equal("https://insight.hyas.com/api/ext/passivedns/search?indicator_type=domain&indicator_value=example.com&domain=example.com", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("k-1", call.Request.Headers["X-API-Key"]);
        Assert.Equal(["Microsoft Sentinel"], call.Request.Headers.GetAll("User-Agent"));
    }

    [Fact]
    public async Task Hyas_CurrentWhois_OperationFilteredHostChange()
    {
        var hyas = TestPackages.Load("HYASInsight");
        var call = await ApimCall.SendAsync(hyas, "POST", "/whois/v1", new() { ["api_key"] = "k-1" }, JsonNode.Parse("""{"domain":"example.com"}"""));

        Assert.Equal("https://api.hyas.com/whois/v1", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("k-1", call.Request.Headers["X-API-Key"]);
        Assert.Equal("Microsoft Sentinel", call.Request.Headers["User-Agent"]);
    }

    [Fact]
    public async Task DeepL_Translate_ApiKeyRewrittenByHeaderTemplate()
    {
        var deepl = TestPackages.Load("DeepL");
        var call = await ApimCall.SendAsync(deepl, "POST", "/translate", new() { ["api_key"] = "secret", ["environment"] = "https://api.deepl.com/v2" },
            JsonNode.Parse("""{"text":["Hallo"],"target_lang":"EN"}"""));

        Assert.Equal("https://api.deepl.com/v2/translate", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("DeepL-Auth-Key secret", call.Request.Headers["Authorization"]);
    }

    [Fact]
    public async Task AzureAd_AddUserToGroup_SetPropertyBuildsOdataId()
    {
        var aad = TestPackages.Load("AzureAD");
        var call = await ApimCall.SendAsync(aad, "POST", "/v1.0/groups/g1/members/$ref", new() { ["token"] = "t" }, JsonNode.Parse("""{"@odata.id":"u1"}"""));

        Assert.Equal("https://graph.microsoft.com/v1.0/groups/g1/members/$ref", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("Bearer t", call.Request.Headers["Authorization"]);
        JsonAssert.Equal("""{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/u1"}""", call.Request.Json);
    }

    [Fact]
    public async Task AzureAd_UpdateUser_MovePropertiesFlattensCustomProperties()
    {
        var aad = TestPackages.Load("AzureAD");
        var call = await ApimCall.SendAsync(aad, "PATCH", "/v1.0/users/u1", new() { ["token"] = "t" },
            JsonNode.Parse("""{"displayName":"Ann","customProperties":{"jobTitle":"Engineer","department":"R&D"}}"""));

        JsonAssert.Equal("""{"displayName":"Ann","jobTitle":"Engineer","department":"R&D"}""", call.Request.Json);
    }

    [Fact]
    public async Task AzureAd_CheckMemberGroupsV2_RelativeNewPathGetsLeadingSlash()
    {
        var aad = TestPackages.Load("AzureAD");
        var call = await ApimCall.SendAsync(aad, "POST", "/v2/v1.0/users/u%2F1/checkMemberGroups", new() { ["token"] = "t" }, JsonNode.Parse("""{"groupIds":["g"]}"""));

        Assert.Equal("https://graph.microsoft.com/v1.0/users/u%2F1/checkMemberGroups", call.Request.ToUri().AbsoluteUri);
    }

    [Fact]
    public async Task AlisQi_DynamicSubdomain_ReplacesHostAndBasePath()
    {
        var alisqi = TestPackages.Load("AlisQI");
        var call = await ApimCall.SendAsync(alisqi, "GET", "/getAllSets", new() { ["subdomain"] = "acme", ["api_key"] = "Bearer k" });

        Assert.StartsWith("https://acme.alisqi.com/api/getAllSets", call.Request.ToUri().AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal("Bearer k", call.Request.Headers["Authorization"]);
    }

    [Fact]
    public async Task DeskDirector_Unauthorized_MarksConnectionAndAdvancedActionsUseFunctionsHost()
    {
        var dd = TestPackages.Load("DeskDirector");
        var connection = new Dictionary<string, string> { ["siteHost"] = "acme.deskdirector.com", ["apiKey"] = "k" };
        var call = await ApimCall.SendAsync(dd, "GET", "/api/v2/automate/connector/functions/listAdvancedActions", connection);

        Assert.Equal("https://functions.deskdirector.com/api/v2/automate/connector/functions/listAdvancedActions", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("DdApi k", call.Request.Headers["Authorization"]);
        Assert.Equal("acme.deskdirector.com", call.Request.Headers["dd-host"]);
        Assert.False(call.Context.ConnectionUnauthenticated);

        call.Respond(401, null);
        Assert.True(call.Context.ConnectionUnauthenticated);
    }

    [Fact]
    public async Task DeskDirector_OrdinaryOperation_UsesSiteHost()
    {
        var dd = TestPackages.Load("DeskDirector");
        var op = dd.Operations.First(o => o.OperationId != "ListAdvancedActions" && !o.PathTemplate.Contains('{', StringComparison.Ordinal) && o.Method == "GET");
        var call = await ApimCall.SendAsync(dd, "GET", op.PathTemplate, new() { ["siteHost"] = "acme.deskdirector.com", ["apiKey"] = "k" },
            query: op.Parameters.Where(p => p.Required && p.In == ParameterLocation.Query).Select(p => new KeyValuePair<string, string>(p.Name, "1")));

        Assert.Equal("acme.deskdirector.com", call.Request.ToUri().Host);
        Assert.Null(call.Request.Headers["dd-host"]);
        call.Respond(200, JsonNode.Parse("[]"));
        Assert.False(call.Context.ConnectionUnauthenticated);
    }

    [Fact]
    public async Task DynamicHostUrl_InvalidConnectionValue_ThrowsWithoutTheValue()
    {
        var jira = TestPackages.Load("JIRA");
        var e = await Assert.ThrowsAsync<PolicyException>(() => ApimCall.SendAsync(jira, "GET", "/issue/A-1", new() { ["jirainstance"] = "bad host/secret", ["username"] = "u", ["password"] = "p" }));
        Assert.Equal("dynamichosturl", e.TemplateId);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }
}
