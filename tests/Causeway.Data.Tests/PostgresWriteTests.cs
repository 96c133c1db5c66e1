using System.Text.Json;
using Causeway.Testing;
using Npgsql;

namespace Causeway.Data.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresWriteTests(PostgresServer server)
{
    private const string Id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

    [Fact]
    public async Task Writes_OnPostgreSql_InsertUpsertUpdateDeleteWithVersions()
    {
        var connectionString = await server.CreateDatabaseAsync("writes");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var ddl = new NpgsqlCommand(
            """
            CREATE TABLE category (categoryid integer PRIMARY KEY, name text NOT NULL);
            CREATE TABLE product (productid uuid PRIMARY KEY, name varchar(50) NOT NULL, price numeric, instock boolean NOT NULL DEFAULT true,
                created timestamptz, categoryid integer REFERENCES category(categoryid), versionnumber bigint NOT NULL DEFAULT 1);
            INSERT INTO category VALUES (1, 'Tools'), (2, 'Toys');
            """, connection))
        {
            await ddl.ExecuteNonQueryAsync();
        }

        // The introspected schema must serve the same requests as the hand-written one.
        var introspected = await SchemaReader.ReadAsync(connection, SqlDialect.PostgreSql);
        Assert.Equal(("category", "product"), (introspected.Relationships.Single().NavigationName, introspected.Relationships.Single().CollectionNavigationName));
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.PostgreSql);

        var inserted = await engine.InsertAsync(connection, "products", Body($$"""{"productid":"{{Id}}","name":"Hammer","price":9.5,"created":"2024-05-01T12:00:00+02:00","category@odata.bind":"categories(1)"}"""));
        Assert.Equal(1, inserted.Version);
        Assert.Equal(409, (await Assert.ThrowsAsync<DataRequestException>(() => engine.InsertAsync(connection, "products", Body($$"""{"productid":"{{Id}}","name":"Again"}""")))).StatusCode);
        var unbound = await Assert.ThrowsAsync<DataRequestException>(() => engine.InsertAsync(connection, "products", Body("""{"productid":"0d2a1f6e-0000-4000-8000-000000000001","name":"Saw","category@odata.bind":"categories(99)"}""")));
        Assert.Equal((404, "'category@odata.bind' references categories(99), which does not exist; nothing was written to 'products'."), (unbound.StatusCode, unbound.Message));
        Assert.Equal(400, (await Assert.ThrowsAsync<DataRequestException>(() => engine.UpdateAsync(connection, "products", Id, Body("""{"categoryid":99}""")))).StatusCode);

        var upserted = await engine.UpsertAsync(connection, "products", Id, Body("""{"name":"Hammer 2"}"""));
        Assert.Equal(2, upserted.Version);
        Assert.Equal(412, (await Assert.ThrowsAsync<DataRequestException>(() => engine.UpdateAsync(connection, "products", Id, Body("""{"price":1}"""), expectedVersion: 1))).StatusCode);
        var updated = await engine.UpdateAsync(connection, "products", Id, Body("""{"price":1.25,"instock":false}"""), expectedVersion: 2);
        Assert.Equal(3, updated.Version);

        var plan = engine.ParseQuery("products", null, ChinookDatabases.ParseQueryString("$filter=not instock and created lt 2024-05-01T11:00:00Z&$expand=category($select=name)"));
        using var buffer = new MemoryStream();
        await engine.ExecuteQueryAsync(connection, plan, buffer, new Uri("https://h/"));
        var row = JsonDocument.Parse(buffer.ToArray()).RootElement.GetProperty("value").EnumerateArray().Single();
        Assert.Equal("W/\"3\"", row.GetProperty("@odata.etag").GetString());
        Assert.Equal("2024-05-01T10:00:00Z", row.GetProperty("created").GetString());
        Assert.Equal(1.25m, row.GetProperty("price").GetDecimal());
        Assert.Equal("Tools", row.GetProperty("category").GetProperty("name").GetString());

        await engine.DeleteAsync(connection, "products", Id, expectedVersion: 3);
        Assert.Equal(404, (await Assert.ThrowsAsync<DataRequestException>(() => engine.DeleteAsync(connection, "products", Id))).StatusCode);
    }

    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
