namespace Causeway.Connectors.Tests;

/// <summary>The built-in "SQL via gateway" connector's operations as API management matches them.</summary>
public sealed class SqlGatewayBuiltInTests
{
    private static readonly ConnectorDefinition Sql = BuiltInConnectors.SqlGateway;

    [Theory]
    [InlineData("GET", "/v2/datasets/default/tables", "GetTables")]
    [InlineData("GET", "/v2/datasets/default/tables/Artist/items", "GetItems")]
    [InlineData("GET", "/v2/datasets/default/tables/Artist", "GetItemsNextPage")]
    [InlineData("GET", "/v2/datasets/default/tables/Artist/items/5", "GetItem")]
    [InlineData("PATCH", "/v2/datasets/default/tables/Artist/items/5", "PatchItem")]
    [InlineData("DELETE", "/v2/datasets/default/tables/Artist/items/5", "DeleteItem")]
    public void Match_EveryOperation_FindsIt(string method, string path, string operationId)
    {
        var result = OperationMatcher.Match(Sql, method, path, hasBody: method == "PATCH");

        Assert.True(result.IsSuccess, result.Error?.Message);
        Assert.Equal(operationId, result.Match!.Operation.OperationId);
    }

    [Fact]
    public void Match_DoubleEncodedTableAndKey_DecodesTwice()
    {
        var result = OperationMatcher.Match(Sql, "GET", "/v2/datasets/default/tables/dbo%252Eorders/items/%2527A%252FB%2527");

        Assert.Equal("dbo.orders", result.Match!.PathParameters["table"]);
        Assert.Equal("'A/B'", result.Match.PathParameters["id"]);
    }

    [Fact]
    public void Match_InsertWithoutRow_Is400NamingTheBody()
    {
        var result = OperationMatcher.Match(Sql, "POST", "/v2/datasets/default/tables/Artist/items", hasBody: false);

        Assert.Equal(400, result.Error!.StatusCode);
        Assert.Contains("item", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Definition_GatewayParameterAndSecretCredentials()
    {
        Assert.True(Sql.RequiresGateway);
        Assert.Contains(Sql.ConnectionParameters, p => p.Name == "gateway" && p.Type == ConnectionParameterType.GatewaySetting);
        Assert.All(Sql.ConnectionParameters.Where(p => p.Name is "username" or "password"), p => Assert.True(p.IsSecret));
        Assert.Contains(Sql.ConnectionParameters, p => p.Name == "databaseType" && !p.Required);
    }
}
