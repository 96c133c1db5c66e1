using System.Text;
using Causeway.Bus;
using Causeway.Gateway.Agent;
using Causeway.Security;

namespace Causeway.Gateway.Tests;

public sealed class DataSourceConnectionsTests
{
    private static readonly string ChinookPath = Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_Sqlite.sqlite");

    [Fact]
    public async Task Open_SameEnvelopeAgain_DecryptsItOnce_ANewEnvelopeIsOpenedAfresh()
    {
        var clusterId = Guid.NewGuid();
        using var key = GatewayEnvelope.CreateKey();
        var connections = new DataSourceConnections(clusterId, key, _ => { });
        var source = Source(Seal(key, clusterId));

        for (var i = 0; i < 3; i++)
        {
            await using var connection = await connections.OpenAsync(source, writable: false, CancellationToken.None);
            Assert.Equal(System.Data.ConnectionState.Open, connection.State);
        }

        Assert.Equal(1, connections.EnvelopesOpened);

        // Credentials set again arrive as a new envelope (fresh randomness), which must be opened, not matched to the old one.
        await using (await connections.OpenAsync(source with { EncryptedCredentials = Seal(key, clusterId) }, writable: false, CancellationToken.None))
        {
            Assert.Equal(2, connections.EnvelopesOpened);
        }
    }

    [Fact]
    public async Task Open_TamperedEnvelope_FailsClearly_AndIsNotRemembered()
    {
        var clusterId = Guid.NewGuid();
        using var key = GatewayEnvelope.CreateKey();
        var log = new List<string>();
        var connections = new DataSourceConnections(clusterId, key, log.Add);
        var envelope = Convert.FromBase64String(Seal(key, clusterId));
        envelope[^1] ^= 0x01;
        var source = Source(Convert.ToBase64String(envelope));

        for (var i = 0; i < 2; i++)
        {
            var error = await Assert.ThrowsAsync<BusException>(() => connections.OpenAsync(source, writable: false, CancellationToken.None));
            Assert.Equal(GatewayErrorCodes.CredentialsUnreadable, error.Code);
            Assert.Contains("cannot be decrypted by this gateway", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, connections.EnvelopesOpened);
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public async Task Open_ReadOnlyAndWritable_AreSeparateConnectionsOfTheSameEnvelope()
    {
        var clusterId = Guid.NewGuid();
        using var key = GatewayEnvelope.CreateKey();
        var connections = new DataSourceConnections(clusterId, key, _ => { });
        var copy = Path.Combine(Path.GetTempPath(), $"chinook-{Guid.NewGuid():N}.sqlite");
        File.Copy(ChinookPath, copy);
        try
        {
            var source = Source(Seal(key, clusterId)) with { Connection = new DataSourceConnection(null, null, null, copy) };
            await using (var reader = await connections.OpenAsync(source, writable: false, CancellationToken.None))
            {
                using var write = reader.CreateCommand();
                write.CommandText = "UPDATE Artist SET Name = 'x' WHERE ArtistId = 1";
                Assert.ThrowsAny<System.Data.Common.DbException>(() => write.ExecuteNonQuery());
            }

            await using (var writer = await connections.OpenAsync(source, writable: true, CancellationToken.None))
            {
                using var write = writer.CreateCommand();
                write.CommandText = "UPDATE Artist SET Name = 'x' WHERE ArtistId = 1";
                Assert.Equal(1, write.ExecuteNonQuery());
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(copy);
        }
    }

    private static DataSourceDescriptor Source(string envelope) =>
        new(Guid.NewGuid(), "chinook", "sqlite", new DataSourceConnection(null, null, null, ChinookPath), envelope, DateTimeOffset.UnixEpoch);

    private static string Seal(System.Security.Cryptography.RSA key, Guid clusterId) =>
        GatewayEnvelope.Seal(key, Encoding.UTF8.GetBytes("""{"username":"","password":""}"""), GatewayOperations.CredentialsAssociatedData(clusterId));
}
