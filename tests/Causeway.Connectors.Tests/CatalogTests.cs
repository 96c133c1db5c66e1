using System.Collections.Frozen;
using System.Text;
using System.Text.Json.Nodes;

namespace Causeway.Connectors.Tests;

public sealed class CatalogTests
{
    [Theory]
    [InlineData("Planner", ConnectorNetworkKind.FirstParty, "graph.microsoft.com")]
    [InlineData("AzureAD", ConnectorNetworkKind.FirstParty, "graph.microsoft.com")]
    [InlineData("AzureKeyVault", ConnectorNetworkKind.FirstParty, "vault.azure.net")]
    [InlineData("JIRA", ConnectorNetworkKind.ThirdParty, "atlassian.net")]
    [InlineData("DeepL", ConnectorNetworkKind.ThirdParty, null)]
    [InlineData("HYASInsight", ConnectorNetworkKind.ThirdParty, "insight.hyas.com")]
    [InlineData("AlisQI", ConnectorNetworkKind.ThirdParty, "alisqi.com")]
    [InlineData("DeskDirector", ConnectorNetworkKind.ThirdParty, null)]
    public void Classify_KnownPackages_GivesKindHostAndReason(string package, ConnectorNetworkKind kind, string? host)
    {
        var c = TestPackages.Load(package).Classification;

        Assert.Equal(kind, c.Kind);
        Assert.Equal(host, c.BackendHost);
        Assert.False(string.IsNullOrWhiteSpace(c.Reason));
    }

    [Fact]
    public void Classify_JiraPublishedByMicrosoft_IsThirdPartyBecauseOfHost()
    {
        var c = TestPackages.Load("JIRA").Classification;

        Assert.Equal("its backend atlassian.net (from the dynamichosturl template) is outside the Microsoft network: reached over the public internet", c.Reason);
    }

    [Fact]
    public void Classify_KeyVaultTemplate_UsesLiteralHostTail()
    {
        var policy = new PolicyTemplateInstance("dynamichosturl", null, PolicySection.Request, [],
            new Dictionary<string, string> { ["urlTemplate"] = "https://@connectionParameters('keyVaultName').vault.azure.net" });

        var c = ConnectorClassifier.Classify("Microsoft", "example.vault.azure.net", [policy]);

        Assert.Equal(ConnectorNetworkKind.FirstParty, c.Kind);
        Assert.Equal("vault.azure.net", c.BackendHost);
    }

    [Theory]
    [InlineData("graph.microsoft.com", true)]
    [InlineData("contoso.crm4.dynamics.com:443", true)]
    [InlineData("login.microsoftonline.com", true)]
    [InlineData("evilmicrosoft.com", false)]
    [InlineData("microsoft.com.evil.net", false)]
    [InlineData("api.contoso.com", false)]
    public void IsPlatformHost_Suffixes_MatchWholeLabels(string host, bool expected) =>
        Assert.Equal(expected, ConnectorClassifier.IsPlatformHost(host));

    [Theory]
    [InlineData("Office 365 Outlook", "office-365-outlook")]
    [InlineData("  Adobe PDF Services (Preview) ", "adobe-pdf-services-preview")]
    [InlineData("Société Générale", "societe-generale")]
    [InlineData("日本語", "connector")]
    [InlineData("SQL Server_v2", "sql-server-v2")]
    public void FromTitle_Titles_GiveUrlSafeNames(string title, string expected)
    {
        var name = ConnectorNaming.FromTitle(title);

        Assert.Equal(expected, name);
        Assert.True(ConnectorNaming.IsValid(name));
    }

    [Fact]
    public void Add_SameTitleTwice_SecondGetsSuffix()
    {
        var catalog = new ConnectorCatalog();
        var planner = TestPackages.Load("Planner");

        var first = catalog.Add(planner);
        var second = catalog.Add(planner);

        Assert.Equal("planner", first.Name);
        Assert.Equal("planner-2", second.Name);
        Assert.Same(first, catalog.Find("PLANNER"));
    }

    [Fact]
    public void Catalog_BuiltIns_ArePresentAndCannotBeRemoved()
    {
        var catalog = new ConnectorCatalog();

        Assert.Equal(["dataapi", "http", "sql-gateway"], catalog.All.Select(c => c.Name));
        Assert.False(catalog.Remove("http"));
        Assert.All(catalog.All, c => Assert.True(c.IsBuiltIn));
    }

    [Fact]
    public void BuiltIns_Classification_AndGateway()
    {
        Assert.Equal(ConnectorNetworkKind.ThirdParty, BuiltInConnectors.Http.Classification.Kind);
        Assert.Equal(ConnectorNetworkKind.FirstParty, BuiltInConnectors.DataApi.Classification.Kind);
        Assert.Equal(ConnectorNetworkKind.FirstParty, BuiltInConnectors.SqlGateway.Classification.Kind);
        Assert.True(BuiltInConnectors.SqlGateway.RequiresGateway);
        Assert.False(BuiltInConnectors.DataApi.RequiresGateway);
    }

    [Fact]
    public async Task BuiltIn_DataApi_GoesToEnvironmentWithBearer()
    {
        var call = await ApimCall.SendAsync(BuiltInConnectors.DataApi, "GET", "/api/data/v9.2/accounts", new() { ["environmentUrl"] = "https://env1.crm.causeway.local", ["token"] = "t" },
            query: [new("$top", "5")]);

        Assert.Equal("https://env1.crm.causeway.local/api/data/v9.2/accounts?%24top=5", call.Request.ToUri().AbsoluteUri);
        Assert.Equal("Bearer t", call.Request.Headers["Authorization"]);
    }

    [Fact]
    public async Task BuiltIn_Http_UsesBaseUrlAndOptionalAuthorization()
    {
        var withAuth = await ApimCall.SendAsync(BuiltInConnectors.Http, "GET", "/status/today", new() { ["baseUrl"] = "https://api.example.net/root", ["authorization"] = "Token x" });
        var anonymous = await ApimCall.SendAsync(BuiltInConnectors.Http, "GET", "/status", new() { ["baseUrl"] = "https://api.example.net" });

        Assert.Equal("https://api.example.net/root/status/today", withAuth.Request.ToUri().AbsoluteUri);
        Assert.Equal("Token x", withAuth.Request.Headers["Authorization"]);
        Assert.Null(anonymous.Request.Headers["Authorization"]);
    }
}

public sealed class CredentialTests
{
    private static ApimRequest NewRequest() => new() { BaseUrl = "https://api.contoso.com", Path = "/x" };

    [Fact]
    public void Apply_ApiKeyHeader_SetsNamedHeader()
    {
        var request = NewRequest();

        var kind = CredentialInjector.Apply(PackageReaderTests.Minimal(), request, new Dictionary<string, string> { ["api_key"] = "k1" });

        Assert.Equal(CredentialKind.ApiKey, kind);
        Assert.Equal("k1", request.Headers["X-Key"]);
    }

    public static TheoryData<string, IReadOnlyDictionary<string, string>> ValuesInOtherCase => new()
    {
        { "plain map", new Dictionary<string, string> { ["API_Key"] = "k2" } },
        { "frozen, ignoring case", new Dictionary<string, string> { ["API_Key"] = "k2" }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase) },
        { "frozen, case-sensitive", new Dictionary<string, string> { ["API_Key"] = "k2" }.ToFrozenDictionary(StringComparer.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(ValuesInOtherCase))]
    public void Apply_ParameterNamedInOtherCase_IsFoundWhateverTheMap(string map, IReadOnlyDictionary<string, string> values)
    {
        var request = NewRequest();

        var kind = CredentialInjector.Apply(PackageReaderTests.Minimal(), request, values);

        Assert.True(kind == CredentialKind.ApiKey, map);
        Assert.Equal("k2", request.Headers["X-Key"]);
    }

    [Fact]
    public void Apply_ApiKeyQuery_SetsQueryParameter()
    {
        var swagger = PackageReaderTests.MinimalSwagger.Replace("\"in\": \"header\", \"name\": \"X-Key\"", "\"in\": \"query\", \"name\": \"code\"", StringComparison.Ordinal);
        var request = NewRequest();

        CredentialInjector.Apply(PackageReaderTests.Minimal(swagger: swagger), request, new Dictionary<string, string> { ["api_key"] = "k 1" });

        Assert.Equal("https://api.contoso.com/x?code=k%201", request.ToUri().AbsoluteUri);
    }

    [Fact]
    public void Apply_Basic_SetsAuthorization()
    {
        var request = NewRequest();

        var kind = CredentialInjector.Apply(TestPackages.Load("JIRA"), request, new Dictionary<string, string> { ["username"] = "ann", ["password"] = "p:w" });

        Assert.Equal(CredentialKind.Basic, kind);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ann:p:w")), request.Headers["Authorization"]);
    }

    [Fact]
    public void Apply_OAuth_SetsBearer()
    {
        var request = NewRequest();

        var kind = CredentialInjector.Apply(TestPackages.Load("AzureKeyVault"), request, new Dictionary<string, string> { ["token"] = "at" });

        Assert.Equal(CredentialKind.OAuth2, kind);
        Assert.Equal("Bearer at", request.Headers["Authorization"]);
    }

    [Fact]
    public void Apply_Anonymous_ChangesNothing()
    {
        var request = NewRequest();

        var kind = CredentialInjector.Apply(TestPackages.Load("HYASInsight") with { SecuritySchemes = [], ConnectionParameters = [] }, request, new Dictionary<string, string>());

        Assert.Equal(CredentialKind.Anonymous, kind);
        Assert.Equal(0, request.Headers.Count);
    }

    [Fact]
    public void Apply_MissingValue_ThrowsNamingParameterNotValues()
    {
        var e = Assert.Throws<CredentialException>(() =>
            CredentialInjector.Apply(TestPackages.Load("JIRA"), NewRequest(), new Dictionary<string, string> { ["username"] = "secret-user" }));

        Assert.Contains("'password'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-user", e.Message, StringComparison.Ordinal);
    }
}

public sealed class ThrottleTests
{
    private sealed class FakeTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void TryAcquire_DefaultLimit_500PerMinuteThenRetryAfter()
    {
        var time = new FakeTime();
        var throttle = new ConnectionThrottle(time);

        for (var i = 0; i < 500; i++)
        {
            Assert.True(throttle.TryAcquire("planner", "c1").Allowed);
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var refused = throttle.TryAcquire("planner", "c1");
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(55), refused.RetryAfter);
        Assert.True(throttle.TryAcquire("planner", "c2").Allowed);

        time.Advance(TimeSpan.FromSeconds(55));
        Assert.True(throttle.TryAcquire("planner", "c1").Allowed);
    }

    [Fact]
    public void TryAcquire_SlidingWindow_FreesOneSlotAtATime()
    {
        var time = new FakeTime();
        var options = new ConnectionThrottleOptions();
        options.PerConnector["jira"] = new ThrottleLimit(2, TimeSpan.FromSeconds(10));
        var throttle = new ConnectionThrottle(time, options);

        Assert.Equal(1, throttle.TryAcquire("JIRA", "c").Remaining);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(throttle.TryAcquire("jira", "c").Allowed);
        Assert.Equal(TimeSpan.FromSeconds(6), throttle.TryAcquire("jira", "c").RetryAfter);

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.True(throttle.TryAcquire("jira", "c").Allowed);
        Assert.False(throttle.TryAcquire("jira", "c").Allowed);
    }

    [Fact]
    public void TryAcquire_LimitAboveMaxEntries_CountsInStepsWithBoundedMemory()
    {
        var time = new FakeTime();
        var options = new ConnectionThrottleOptions();
        options.PerConnector["bulk"] = new ThrottleLimit(50_000, TimeSpan.FromSeconds(10));
        var throttle = new ConnectionThrottle(time, options);

        // 50,000 calls 40 µs apart (2 s): kept in steps of 10 s / 10,000 = 1 ms, 25 calls per step.
        for (var i = 0; i < 50_000; i++)
        {
            Assert.True(throttle.TryAcquire("bulk", "c").Allowed, $"call {i} was refused");
            time.Advance(TimeSpan.FromTicks(400));
        }

        Assert.Equal(2_001, throttle.EntriesOf("bulk", "c"));
        var refused = throttle.TryAcquire("bulk", "c");
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(8), refused.RetryAfter);

        // Still counted just before the window of the first call has passed; free again once it has.
        time.Advance(TimeSpan.FromSeconds(8) - TimeSpan.FromTicks(1));
        Assert.False(throttle.TryAcquire("bulk", "c").Allowed);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(throttle.TryAcquire("bulk", "c").Allowed);
    }

    [Fact]
    public void Prune_IdleConnections_AreForgotten()
    {
        var time = new FakeTime();
        var throttle = new ConnectionThrottle(time);
        throttle.TryAcquire("x", "c1");
        time.Advance(TimeSpan.FromMinutes(2));
        throttle.TryAcquire("x", "c2");

        Assert.Equal(1, throttle.Prune());
    }

    [Fact]
    public void Constructor_InvalidOptions_NamesSetting()
    {
        var options = new ConnectionThrottleOptions();
        options.PerConnector["bad"] = new ThrottleLimit(0, TimeSpan.FromSeconds(1));

        var e = Assert.Throws<InvalidOperationException>(() => new ConnectionThrottle(TimeProvider.System, options));
        Assert.Contains("PerConnector[bad]", e.Message, StringComparison.Ordinal);
    }
}

public sealed class SyntheticPolicyTests
{
    private const string Swagger = """
        {"swagger":"2.0","info":{"title":"Synthetic","version":"1"},"host":"api.example.com","basePath":"/v1",
         "paths":{
           "/items":{"get":{"operationId":"List","parameters":[{"name":"q","in":"query","type":"string"}],"responses":{"200":{"description":"ok"}}},
                     "post":{"operationId":"Create","parameters":[{"name":"body","in":"body","schema":{}}],"responses":{"200":{"description":"ok"}}}},
           "/hooks":{"post":{"operationId":"Subscribe","parameters":[{"name":"body","in":"body","schema":{}}],"responses":{"200":{"description":"ok"}}}}
         }}
        """;

    private static ConnectorDefinition With(string policies) =>
        ConnectorPackageReader.ReadText(Swagger, $$$"""{"properties":{"connectionParameters":{"tenant":{"type":"string"}},"policyTemplateInstances":[{{{policies}}}]}}""", null);

    private static Task<ApimCall> Send(ConnectorDefinition d, string method, string path, JsonNode? body = null, IEnumerable<KeyValuePair<string, string>>? query = null, IEnumerable<KeyValuePair<string, string>>? headers = null) =>
        ApimCall.SendAsync(d, method, path, new() { ["tenant"] = "t1" }, body, query, headers);

    [Fact]
    public async Task SetHeader_ExistsActions_SkipAppendOverride()
    {
        var d = With("""
            {"templateId":"setheader","parameters":{"x-ms-apimTemplateParameter.name":"Accept","x-ms-apimTemplateParameter.value":"text/plain","x-ms-apimTemplateParameter.existsAction":"skip"}},
            {"templateId":"setheader","parameters":{"x-ms-apimTemplateParameter.name":"X-Tenant","x-ms-apimTemplateParameter.value":"@connectionParameters('tenant')","x-ms-apimTemplateParameter.existsAction":"append"}},
            {"templateId":"setheader","parameters":{"x-ms-apimTemplateParameter.name":"X-Tenant","x-ms-apimTemplateParameter.value":"second","x-ms-apimTemplateParameter.existsAction":"append"}},
            {"templateId":"setheader","parameters":{"x-ms-apimTemplateParameter.name":"X-Missing","x-ms-apimTemplateParameter.value":"@connectionParameters('nothing','')"}},
            {"templateId":"setheader","parameters":{"x-ms-apimTemplateParameter.name":"X-Served-By","x-ms-apimTemplateParameter.value":"causeway","x-ms-apimTemplate-policySection":"Response"}}
            """);

        var call = await Send(d, "GET", "/items", headers: [new("Accept", "application/json")]);

        Assert.Equal("application/json", call.Request.Headers["Accept"]);
        Assert.Equal(["t1", "second"], call.Request.Headers.GetAll("X-Tenant"));
        Assert.False(call.Request.Headers.Contains("X-Missing"));
        Assert.Equal("causeway", call.Respond(200, null).Headers["X-Served-By"]);
    }

    [Fact]
    public async Task SetQueryParameter_EncodedNameAndQueryReference()
    {
        var d = With("""
            {"templateId":"setqueryparameter","parameters":{"x-ms-apimTemplateParameter.name":"%24top","x-ms-apimTemplateParameter.value":"50"}},
            {"templateId":"setqueryparameter","parameters":{"x-ms-apimTemplateParameter.name":"filter","x-ms-apimTemplateParameter.value":"[{\"rhs\":\"@queryParameters('q')\"}]"}}
            """);

        var call = await Send(d, "GET", "/items", query: [new("q", "a&b")]);

        Assert.Equal("https://api.example.com/v1/items?q=a%26b&%24top=50&filter=%5B%7B%22rhs%22%3A%22a%26b%22%7D%5D", call.Request.ToUri().AbsoluteUri);
    }

    [Fact]
    public async Task SetProperty_JsonArrayValueAndPlaceholders()
    {
        var d = With("""
            {"templateId":"setproperty","parameters":{"x-ms-apimTemplateParameter.newPropertyParentPathTemplate":"@body()","x-ms-apimTemplateParameter.newPropertySubPathTemplate":"topics","x-ms-apimTemplateParameter.propertyValuePathTemplate":"[\"contract.created\"]","x-ms-apimTemplate-policySection":"Request","x-ms-apimTemplate-operationName":["Subscribe"]}},
            {"templateId":"setproperty","parameters":{"x-ms-apimTemplateParameter.newPropertyParentPathTemplate":"@body()","x-ms-apimTemplateParameter.newPropertySubPathTemplate":"filter","x-ms-apimTemplateParameter.propertyValuePathTemplate":"and(eq(state, '{@body().state}'), startsWith(path, '{@body().path}'))","x-ms-apimTemplate-policySection":"Request","x-ms-apimTemplate-operationName":["Subscribe"]}},
            {"templateId":"setproperty","parameters":{"x-ms-apimTemplateParameter.newPropertyParentPathTemplate":"@body()","x-ms-apimTemplateParameter.newPropertySubPathTemplate":"payments","x-ms-apimTemplateParameter.propertyValuePathTemplate":"[{@body().payment}]","x-ms-apimTemplate-policySection":"Request","x-ms-apimTemplate-operationName":["Subscribe"]}},
            {"templateId":"setproperty","parameters":{"x-ms-apimTemplateParameter.newPropertyParentPathTemplate":"@body()","x-ms-apimTemplateParameter.newPropertySubPathTemplate":"nextLink","x-ms-apimTemplateParameter.propertyValuePathTemplate":"{@body().next}","x-ms-apimTemplate-policySection":"Response"}}
            """);

        var call = await Send(d, "POST", "/hooks", JsonNode.Parse("""{"state":"open","path":"/a","payment":{"amount":5}}"""));

        JsonAssert.Equal("""
            {"state":"open","path":"/a","payment":{"amount":5},"topics":["contract.created"],
             "filter":"and(eq(state, 'open'), startsWith(path, '/a'))","payments":[{"amount":5}]}
            """, call.Request.Json);
        JsonAssert.Equal("""{"items":[]}""", call.Respond(200, JsonNode.Parse("""{"items":[]}""")).Json);
        JsonAssert.Equal("""{"next":"n2","nextLink":"n2"}""", call.Respond(200, JsonNode.Parse("""{"next":"n2"}""")).Json);
    }

    [Fact]
    public async Task RouteRequestToEndpoint_LiteralMethodAndQueryInPath()
    {
        var d = With("""
            {"templateId":"routerequesttoendpoint","parameters":{"x-ms-apimTemplateParameter.newPath":"/search?kind=@queryParameters('q')","x-ms-apimTemplateParameter.httpMethod":"POST","x-ms-apimTemplate-operationName":["List"]}}
            """);

        var call = await Send(d, "GET", "/items", query: [new("q", "x y")]);

        Assert.Equal("POST", call.Request.Method);
        Assert.Equal("https://api.example.com/v1/search?q=x%20y&kind=x%20y", call.Request.ToUri().AbsoluteUri);
    }

    [Fact]
    public async Task BodyTemplates_WithoutValueNameOrChild_MergeAndKeepStrings()
    {
        var d = With("""
            {"templateId":"convertobjecttoarray","parameters":{"x-ms-apimTemplateParameter.propertyParentPath":"@body()","x-ms-apimTemplateParameter.propertySubPath":"fields","x-ms-apimTemplateParameter.newPropertyPath":"@body().fields","x-ms-apimTemplateParameter.keyName":"field_id","x-ms-apimTemplate-policySection":"Response"}},
            {"templateId":"stringtoarray","parameters":{"x-ms-apimTemplateParameter.propertyParentPath":"@body()","x-ms-apimTemplateParameter.propertySubPath":"tags","x-ms-apimTemplateParameter.delimiterList":",;","x-ms-apimTemplateParameter.newPropertyPath":"@body().tags","x-ms-apimTemplate-policySection":"Request"}},
            {"templateId":"convertarraytoobject","parameters":{"x-ms-apimTemplateParameter.propertyParentPath":"@body()","x-ms-apimTemplateParameter.propertySubPath":"people","x-ms-apimTemplateParameter.keyWithinCollectionPath":"id","x-ms-apimTemplateParameter.newPropertyPath":"@body().people","x-ms-apimTemplateParameter.retainKey":"true","x-ms-apimTemplate-policySection":"Request"}}
            """);

        var call = await Send(d, "POST", "/items", JsonNode.Parse("""{"tags":"a, b;c","people":[{"id":"p1","n":1},{"n":2}]}"""));

        JsonAssert.Equal("""{"tags":["a","b","c"],"people":{"p1":{"id":"p1","n":1}}}""", call.Request.Json);
        JsonAssert.Equal("""{"fields":[{"field_id":"f1","label":"L"},{"field_id":"f2","value":3}]}""",
            call.Respond(200, JsonNode.Parse("""{"fields":{"f1":{"label":"L"},"f2":3}}""")).Json);
    }

    [Fact]
    public async Task UpdateNextLink_RelativeAndForeignLinks()
    {
        var d = With("""
            {"templateId":"updatenextlink","parameters":{"x-ms-apimTemplateParameter.nextLinkPropertyName":"nextLink"}}
            """);

        var call = await Send(d, "GET", "/items");

        JsonAssert.Equal("""{"nextLink":"https://causeway.example/apim/synthetic/c1/items?page=2"}""", call.Respond(200, JsonNode.Parse("""{"nextLink":"/items?page=2"}""")).Json);
        JsonAssert.Equal("""{"nextLink":"https://other.example.org/p2"}""", call.Respond(200, JsonNode.Parse("""{"nextLink":"https://other.example.org/p2"}""")).Json);
    }

    [Fact]
    public async Task DynamicHostUrl_FromHeaderWithQuery()
    {
        var d = With("""
            {"templateId":"dynamichosturl","parameters":{"x-ms-apimTemplateParameter.urlTemplate":"https://@headers('domainname')/svc.ashx?@headers('querystring')"}}
            """);

        var call = await ApimCall.SendAsync(d with { Operations = [.. d.Operations.Select(o => o.OperationId == "List" ? o with { Parameters = [.. o.Parameters, new OperationParameter("domainname", ParameterLocation.Header, "string", null, true, null, null, null, null, "single", null, null, null), new OperationParameter("querystring", ParameterLocation.Header, "string", null, false, null, null, null, null, "single", null, null, null)] } : o)] },
            "GET", "/items", [], headers: [new("domainname", "docs.example.org"), new("querystring", "a=1&b=2")]);

        Assert.Equal("https://docs.example.org/svc.ashx/items?a=1&b=2", call.Request.ToUri().AbsoluteUri);
    }
}
