using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Security;
using Causeway.Testing;

namespace Causeway.Gateway.Tests;

/// <summary>
/// The server holds no key that opens data-source credentials: canary secrets sent in clear over TLS appear nowhere in
/// the platform's files, the server's (debug-level) log or any API response, yet open with the cluster's private key.
/// </summary>
public sealed class CanaryTests
{
    [Fact]
    public async Task CreateDataSource_CanarySecrets_AppearNowhereOnTheServerButOpenWithClusterKey()
    {
        using var folder = new TempFolder("causeway-canary");
        var canaryUser = $"canary-user-{Guid.NewGuid():N}";
        var canaryPassword = $"canary-password-{Guid.NewGuid():N}";
        await using var host = await GatewayHost.StartProcessAsync(folder.Path);
        var (clusterId, _, key) = await host.CreateClusterAsync("hq");
        using var client = host.Client(host.AdminToken);
        var responses = new StringBuilder();

        var created = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "northwind",
            type = "postgresql",
            connection = new { host = "127.0.0.1", port = 5432, database = "northwind" },
            credentials = new { username = canaryUser, password = canaryPassword },
        });
        responses.Append(await created.Content.ReadAsStringAsync());
        var rejected = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", new
        {
            name = "bad",
            type = "postgresql",
            connection = new { host = "h", database = "d", password = canaryPassword },
            credentials = new { username = canaryUser, password = canaryPassword, extra = canaryPassword },
        });
        responses.Append(await rejected.Content.ReadAsStringAsync());
        var dataSourceId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        foreach (var path in new[] { "/api/v1/gateways", $"/api/v1/gateways/{clusterId}", $"/api/v1/gateways/{clusterId}/datasources", $"/api/v1/gateways/{clusterId}/datasources/{dataSourceId}" })
        {
            responses.Append(await (await client.GetAsync(path)).Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        await host.KillAsync();
        var log = host.Log;
        Assert.Contains("Causeway is ready", log, StringComparison.Ordinal);
        foreach (var canary in new[] { canaryUser, canaryPassword })
        {
            Assert.DoesNotContain(canary, responses.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(canary, log, StringComparison.Ordinal);
            foreach (var file in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(canary)) || Contains(bytes, Encoding.Unicode.GetBytes(canary)), $"{canary} found in {file}");
            }
        }

        // The server has no private key of the cluster and no recovery key: neither is anywhere in its folder.
        var privateKey = Convert.ToBase64String(key.ExportPkcs8PrivateKey());
        foreach (var file in Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file));
            Assert.DoesNotContain(privateKey[..64], text, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.RecoveryKey, text, StringComparison.Ordinal);
        }

        // What was stored does hold the credentials, for the holder of the cluster's private key.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(folder.Path, "platform.db")};Mode=ReadOnly;Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT encrypted_credentials FROM gateway_datasources";
        var envelope = (string)(await command.ExecuteScalarAsync())!;
        var clear = Encoding.UTF8.GetString(GatewayEnvelope.Open(key, envelope, GatewayOperations.CredentialsAssociatedData(clusterId)));
        Assert.Contains(canaryPassword, clear, StringComparison.Ordinal);
        Assert.Contains(canaryUser, clear, StringComparison.Ordinal);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
