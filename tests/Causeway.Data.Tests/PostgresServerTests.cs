using Causeway.Testing;
using Npgsql;

namespace Causeway.Data.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests(PostgresServer server)
{
    [Fact]
    public async Task CreateDatabaseAsync_NewName_ReturnsConnectableDatabase()
    {
        var connectionString = await server.CreateDatabaseAsync("fixture_smoke");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select current_database()", connection);
        Assert.Equal("fixture_smoke", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task UntilAsync_ConditionNeverTrue_ThrowsNamingWhatItWaitedFor()
    {
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => Poll.UntilAsync(() => false, TimeSpan.FromMilliseconds(50), "the moon to turn blue"));
        Assert.Contains("the moon to turn blue", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TempFolder_Dispose_DeletesDirectory()
    {
        var folder = new TempFolder();
        File.WriteAllText(folder.Combine("a.txt"), "x");
        folder.Dispose();
        Assert.False(Directory.Exists(folder.Path));
    }
}
