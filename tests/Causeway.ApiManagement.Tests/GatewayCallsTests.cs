namespace Causeway.ApiManagement.Tests;

/// <summary>How a gateway connection's parameters and key segments are read, without a server.</summary>
public sealed class GatewayCallsTests
{
    [Theory]
    [InlineData("5", "5")]
    [InlineData("-12", "-12")]
    [InlineData("6f1c3a52-8a2e-4c1e-9f0e-2b5d8c7e1a90", "6f1c3a52-8a2e-4c1e-9f0e-2b5d8c7e1a90")]
    [InlineData("'ALFKI'", "'ALFKI'")]
    [InlineData("ALFKI", "'ALFKI'")]
    [InlineData("O'Brien", "'O''Brien'")]
    [InlineData("OrderId=1,LineId=2", "OrderId=1,LineId=2")]
    public void KeyLiteral_IdSegment_BecomesODataKey(string id, string expected) => Assert.Equal(expected, GatewayCalls.KeyLiteral(id));

    [Theory]
    [InlineData("sqlite", "/data/chinook.sqlite", null, null)]
    [InlineData("postgresql", "db.corp.local:5432", "sales", null)]
    [InlineData(null, "sql01,1433", "sales", null)]
    [InlineData("oracle", "db", "sales", "parameters.databaseType")]
    [InlineData("postgresql", "db:99999", "sales", "parameters.server")]
    [InlineData("postgresql", "db", null, "parameters.database")]
    [InlineData("sqlite", " ", null, "parameters.server")]
    public void SqlTargetValidate_Parameters_NamesTheWrongOne(string? type, string server, string? database, string? field)
    {
        var values = new Dictionary<string, string> { ["server"] = server };
        if (type is not null)
        {
            values["databaseType"] = type;
        }

        if (database is not null)
        {
            values["database"] = database;
        }

        Assert.Equal(field, GatewayCalls.SqlTarget.Validate(values)?.Field);
    }
}
