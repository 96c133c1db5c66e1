namespace Causeway.Connectors.Tests;

public sealed class MatcherTests
{
    private static readonly ConnectorDefinition Contoso = PackageReaderTests.Minimal();

    [Theory]
    [InlineData("/orders/42")]
    [InlineData("/v1/orders/42")]
    [InlineData("/orders/42/")]
    [InlineData("/ORDERS/42")]
    public void Match_PathWithOrWithoutBasePath_FindsOperation(string path)
    {
        var result = OperationMatcher.Match(Contoso, "get", path);

        Assert.True(result.IsSuccess, result.Error?.Message);
        Assert.Equal("GetOrder", result.Match!.Operation.OperationId);
        Assert.Equal("42", result.Match.PathParameters["orderId"]);
    }

    [Fact]
    public void Match_DoubleEncodedParameter_DecodesTwice()
    {
        var result = OperationMatcher.Match(Contoso, "GET", "/files/a%252Fb%2520c.txt");

        Assert.Equal("a/b c.txt", result.Match!.PathParameters["path"]);
    }

    [Fact]
    public void Match_SingleEncodedParameter_DecodesOnce()
    {
        var result = OperationMatcher.Match(BuiltInConnectors.DataApi, "GET", "/accounts(0000%2D1)");

        Assert.Equal("GetRow", result.Match!.Operation.OperationId);
        Assert.Equal("accounts", result.Match.PathParameters["entitySet"]);
        Assert.Equal("0000-1", result.Match.PathParameters["id"]);
    }

    [Fact]
    public void Match_UnknownPath_Is404()
    {
        var result = OperationMatcher.Match(Contoso, "GET", "/customers");

        Assert.Equal(MatchFailure.NotFound, result.Error!.Kind);
        Assert.Equal(404, result.Error.StatusCode);
    }

    [Fact]
    public void Match_WrongMethod_Is405WithAllowed()
    {
        var result = OperationMatcher.Match(Contoso, "DELETE", "/orders/42");

        Assert.Equal(405, result.Error!.StatusCode);
        Assert.Equal("DELETE is not allowed on this path; allowed: GET", result.Error.Message);
    }

    [Fact]
    public void Match_WrongTypes_ListsEveryProblem()
    {
        var result = OperationMatcher.Match(Contoso, "GET", "/orders/abc", [new("expand", "maybe")]);

        Assert.Equal(MatchFailure.InvalidParameters, result.Error!.Kind);
        Assert.Equal(400, result.Error.StatusCode);
        Assert.Equal(["path parameter 'orderId' must be of type integer", "query parameter 'expand' must be of type boolean"], result.Error.Problems);
    }

    [Fact]
    public void Match_MissingRequiredBody_Is400()
    {
        var result = OperationMatcher.Match(Contoso, "POST", "/orders", hasBody: false);

        Assert.Equal("operation 'CreateOrder': body parameter 'body' is required: the request has no body", result.Error!.Message);
    }

    [Fact]
    public void Match_RequiredQueryWithDefault_IsFilledByFactory()
    {
        var result = OperationMatcher.Match(Contoso, "GET", "/orders/7");
        var request = BackendRequestFactory.Create(Contoso, result.Match!, [new("expand", "true")]);

        Assert.Equal("https://api.contoso.com/v1/orders/7?expand=true&region=eu", request.ToUri().AbsoluteUri);
    }

    [Fact]
    public void Match_RequiredQueryMissing_Is400()
    {
        var jira = TestPackages.Load("JIRA");

        var result = OperationMatcher.Match(jira, "POST", "/issue", hasBody: true);

        Assert.Equal(["query parameter 'projectKey' is required"], result.Error!.Problems);
    }

    [Fact]
    public void Match_ScriptOperation_MatchesLikeAnyOther()
    {
        var d = PackageReaderTests.Minimal(script: ScriptSamples.Echo);

        var result = OperationMatcher.Match(d, "GET", "/orders/1");

        Assert.True(result.IsSuccess);
        Assert.True(d.IsServedByScript(result.Match!.Operation));
    }

    [Fact]
    public void Match_MoreLiteralTemplate_Wins()
    {
        var planner = TestPackages.Load("Planner");
        var details = OperationMatcher.Match(planner, "GET", "/v1.0/planner/tasks/t1/details");
        var task = OperationMatcher.Match(planner, "GET", "/v1.0/planner/tasks/t1");

        Assert.Equal("GetTaskDetails_V2", details.Match!.Operation.OperationId);
        Assert.Equal("GetTask_V2", task.Match!.Operation.OperationId);
    }

    [Fact]
    public void Match_HttpWildcard_TakesTheRestOfThePath()
    {
        var result = OperationMatcher.Match(BuiltInConnectors.Http, "POST", "/hooks/a%20b/c", hasBody: true);
        var request = BackendRequestFactory.Create(BuiltInConnectors.Http, result.Match!);

        Assert.Equal("hooks/a b/c", result.Match!.PathParameters["path"]);
        Assert.Equal("/hooks/a%20b/c", request.Path);
    }

    [Theory]
    [InlineData("/template_types", "ListTypes")]
    [InlineData("/template_types/", "TypeByHeader")]
    public void Match_PathDeclaredWithAndWithoutTrailingSlash_TheFormAskedForWins(string path, string expected)
    {
        // As in a published package (Oneflow): two operations whose paths differ only by a trailing slash.
        const string Swagger = """
            {
              "swagger": "2.0", "info": { "title": "Twins", "version": "1.0" }, "host": "api.example.com", "basePath": "/",
              "schemes": ["https"],
              "paths": {
                "/template_types/": { "get": { "operationId": "TypeByHeader", "responses": { "200": { "description": "ok" } } } },
                "/template_types": { "get": { "operationId": "ListTypes", "responses": { "200": { "description": "ok" } } } }
              }
            }
            """;
        var twins = PackageReaderTests.Minimal(swagger: Swagger);

        var result = OperationMatcher.Match(twins, "GET", path + "?x=1");

        Assert.Equal(expected, result.Match!.Operation.OperationId);
    }
    [Theory]
    [InlineData("GET", "/files/a/b/c", "ReadFile")]
    [InlineData("GET", "/files/7/meta", "FileMeta")]
    [InlineData("GET", "/FILES/7/META", "FileMeta")]
    [InlineData("GET", "/op3/x", "Op3")]
    [InlineData("DELETE", "/files/a/b", null)]
    [InlineData("GET", "/nothing/here", null)]
    public void Match_LargeConnectorWithCatchAll_AnswersAsTryingEveryTemplate(string method, string path, string? expected)
    {
        // More operations than the matcher tries one by one, so that the tree of path segments is used.
        var paths = string.Join(",", Enumerable.Range(0, 10).Select(i =>
            "\"/op" + i + "/{id}\": { \"get\": { \"operationId\": \"Op" + i + "\", \"parameters\": [ { \"name\": \"id\", \"in\": \"path\", \"required\": true, \"type\": \"string\" } ], \"responses\": { \"200\": { \"description\": \"ok\" } } } }"));
        var swagger = $$"""
            {
              "swagger": "2.0", "info": { "title": "Large", "version": "1.0" }, "host": "api.example.com", "basePath": "/",
              "schemes": ["https"],
              "paths": {
                "/files/{*path}": { "get": { "operationId": "ReadFile", "parameters": [ { "name": "path", "in": "path", "required": true, "type": "string" } ], "responses": { "200": { "description": "ok" } } } },
                "/files/{id}/meta": { "get": { "operationId": "FileMeta", "parameters": [ { "name": "id", "in": "path", "required": true, "type": "string" } ], "responses": { "200": { "description": "ok" } } } },
                {{paths}}
              }
            }
            """;
        var large = PackageReaderTests.Minimal(swagger: swagger);

        var result = OperationMatcher.Match(large, method, path);
        var reference = OperationMatcher.Match(large, method, path, null, null, hasBody: false, everyTemplate: true);

        Assert.Equal(expected, result.Match?.Operation.OperationId);
        Assert.Equal(reference.Match?.Operation, result.Match?.Operation);
        Assert.Equal(reference.Error?.Message, result.Error?.Message);
    }
}
