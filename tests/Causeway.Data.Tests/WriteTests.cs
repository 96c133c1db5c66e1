using System.Text.Json;
using Causeway.Testing;
using Microsoft.Data.Sqlite;

namespace Causeway.Data.Tests;

public sealed class WriteTests : IDisposable
{
    private const string Id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    private readonly TempFolder _folder = new("causeway-data");
    private readonly SqliteConnection _connection;
    private readonly DataEngine _engine = new(TestSchema.Create(), SqlDialect.Sqlite);

    public WriteTests()
    {
        _connection = new SqliteConnection($"Data Source={_folder.Combine("test.db")};Pooling=false");
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = TestSchema.SqliteDdl;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _connection.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task InsertAsync_NewRow_ReturnsKeyAndFirstVersion()
    {
        var result = await _engine.InsertAsync(_connection, "products", Body($$"""{"productid":"{{Id}}","name":"Hammer","price":9.5,"instock":false,"created":"2024-05-01T10:00:00Z","category@odata.bind":"categories(2)"}"""));
        Assert.Equal(Guid.Parse(Id), result.Key["productid"]);
        Assert.Equal("W/\"1\"", result.ETag);
        Assert.Equal(Id, result.EntityId);

        var row = await Get(Id);
        Assert.Equal("W/\"1\"", row.GetProperty("@odata.etag").GetString());
        Assert.False(row.GetProperty("instock").GetBoolean());
        Assert.Equal(9.5m, row.GetProperty("price").GetDecimal());
        Assert.Equal("2024-05-01T10:00:00Z", row.GetProperty("created").GetString());
        Assert.Equal(2, row.GetProperty("categoryid").GetInt32());
        Assert.Equal(Id, row.GetProperty("productid").GetString());
    }

    [Fact]
    public async Task UpdateAsync_MatchingVersion_ChangesOnlyGivenPropertiesAndBumpsVersion()
    {
        await Insert();
        var result = await _engine.UpdateAsync(_connection, "products", Id, Body("""{"price":12}"""), expectedVersion: 1);
        Assert.Equal(2, result.Version);
        var row = await Get(Id);
        Assert.Equal(12m, row.GetProperty("price").GetDecimal());
        Assert.Equal("Hammer", row.GetProperty("name").GetString());
    }

    [Fact]
    public async Task UpdateAsync_StaleVersion_Throws412AndChangesNothing()
    {
        await Insert();
        await _engine.UpdateAsync(_connection, "products", Id, Body("""{"price":12}"""));
        var ex = await Assert.ThrowsAsync<DataRequestException>(() => _engine.UpdateAsync(_connection, "products", Id, Body("""{"price":99}"""), expectedVersion: 1));
        Assert.Equal(412, ex.StatusCode);
        Assert.Equal(DataErrorCodes.ConcurrencyMismatch, ex.Code);
        Assert.Equal(12m, (await Get(Id)).GetProperty("price").GetDecimal());
    }

    [Fact]
    public async Task UpdateAndDelete_MissingRow_Throw404()
    {
        Assert.Equal(404, (await Assert.ThrowsAsync<DataRequestException>(() => _engine.UpdateAsync(_connection, "products", Id, Body("""{"price":1}""")))).StatusCode);
        Assert.Equal(404, (await Assert.ThrowsAsync<DataRequestException>(() => _engine.DeleteAsync(_connection, "products", Id))).StatusCode);
    }

    [Fact]
    public async Task DeleteAsync_StaleThenCurrentVersion_412ThenGone()
    {
        await Insert();
        Assert.Equal(412, (await Assert.ThrowsAsync<DataRequestException>(() => _engine.DeleteAsync(_connection, "products", Id, expectedVersion: 7))).StatusCode);
        await _engine.DeleteAsync(_connection, "products", Id, expectedVersion: 1);
        Assert.Equal(404, (await Assert.ThrowsAsync<DataRequestException>(() => Get(Id))).StatusCode);
    }

    [Fact]
    public async Task InsertAsync_DuplicateKey_Throws409WithoutDatabaseText()
    {
        await Insert();
        var ex = await Assert.ThrowsAsync<DataRequestException>(Insert);
        Assert.Equal(409, ex.StatusCode);
        Assert.StartsWith("The row could not be created in 'products'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("constraint failed", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SQLite", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task InsertAndUpdate_BindToMissingRow_Throw404NamingTheTargetAndWriteNothing()
    {
        using (var pragma = _connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA foreign_keys = ON";
            pragma.ExecuteNonQuery();
        }

        var insert = await Assert.ThrowsAsync<DataRequestException>(() => _engine.InsertAsync(_connection, "products", Body($$"""{"productid":"{{Id}}","name":"Saw","category@odata.bind":"/categories(42)"}""")));
        Assert.Equal((404, DataErrorCodes.NotFound), (insert.StatusCode, insert.Code));
        Assert.Equal("'category@odata.bind' references categories(42), which does not exist; nothing was written to 'products'.", insert.Message);
        await Assert.ThrowsAsync<DataRequestException>(() => Get(Id));

        await Insert();
        var update = await Assert.ThrowsAsync<DataRequestException>(() => _engine.UpdateAsync(_connection, "products", Id, Body("""{"price":3,"category@odata.bind":"categories(7)"}""")));
        Assert.Equal(404, update.StatusCode);
        Assert.Contains("categories(7)", update.Message, StringComparison.Ordinal);
        Assert.Equal("Hammer", (await Get(Id)).GetProperty("name").GetString());
        Assert.Equal(1, (await _engine.UpdateAsync(_connection, "products", Id, Body("""{"category@odata.bind":"categories(1)"}"""))).Version - 1);
    }

    [Theory]
    [InlineData("""{"productid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","nmae":"x"}""", "Could not find a property named 'nmae'")]
    [InlineData("""{"productid":"6f9619ff-8b86-d011-b42d-00c04fc964ff"}""", "'name' is required")]
    [InlineData("""{"productid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","name":"x","versionnumber":5}""", "read-only")]
    [InlineData("""{"productid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","name":"x","price":"cheap"}""", "'price' is not a valid")]
    [InlineData("""{"productid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","name":null}""", "cannot be null")]
    public async Task InsertAsync_BadBody_Throws400NamingTheProblem(string body, string message)
    {
        var ex = await Assert.ThrowsAsync<DataRequestException>(() => _engine.InsertAsync(_connection, "products", Body(body)));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertAsync_AbsentThenPresent_CreatesThenUpdates()
    {
        var created = await _engine.UpsertAsync(_connection, "products", Id, Body("""{"name":"Saw","instock":true}"""));
        Assert.Equal(1, created.Version);
        var updated = await _engine.UpsertAsync(_connection, "products", Id, Body("""{"name":"Saw 2","instock":true}"""));
        Assert.Equal(2, updated.Version);
        var row = await Get(Id);
        Assert.Equal("Saw 2", row.GetProperty("name").GetString());
        Assert.True(row.GetProperty("instock").GetBoolean());
    }

    [Fact]
    public async Task ExecuteQueryAsync_FilterOnBooleanAndGuid_RoundTrips()
    {
        await Insert();
        var plan = _engine.ParseQuery("products", null, ChinookDatabases.ParseQueryString($"$filter=instock and productid eq {Id}&$expand=category"));
        using var buffer = new MemoryStream();
        await _engine.ExecuteQueryAsync(_connection, plan, buffer, new Uri("https://h/"));
        var value = JsonDocument.Parse(buffer.ToArray()).RootElement.GetProperty("value");
        Assert.Equal(1, value.GetArrayLength());
        Assert.Equal("Tools", value[0].GetProperty("category").GetProperty("name").GetString());
    }

    [Fact]
    public async Task ExecuteQueryAsync_DatabaseFails_ThrowsGenericMessage()
    {
        using (var drop = _connection.CreateCommand())
        {
            drop.CommandText = "DROP TABLE product";
            drop.ExecuteNonQuery();
        }

        var plan = _engine.ParseQuery("products", null, new Dictionary<string, string>());
        var ex = await Assert.ThrowsAsync<DataRequestException>(() => _engine.ExecuteQueryAsync(_connection, plan, Stream.Null, new Uri("https://h/")));
        Assert.Equal(500, ex.StatusCode);
        Assert.Equal("The database could not complete the request.", ex.Message);
    }

    private Task<WriteResult> Insert() =>
        _engine.InsertAsync(_connection, "products", Body($$"""{"productid":"{{Id}}","name":"Hammer","price":9.5,"instock":true,"categoryid":1}"""));

    private async Task<JsonElement> Get(string key)
    {
        var plan = _engine.ParseQuery("products", key, new Dictionary<string, string>());
        using var buffer = new MemoryStream();
        await _engine.ExecuteQueryAsync(_connection, plan, buffer, new Uri("https://h/"));
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
