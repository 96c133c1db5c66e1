using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Testing;
using Npgsql;

namespace Causeway.Gateway.Tests;

/// <summary>Faults of the database behind a real agent: PostgreSQL with password authentication for one role.</summary>
[Collection("gateway-postgres")]
public sealed class DatabaseFaultTests(PostgresServer postgres) : IAsyncLifetime
{
    private readonly TempFolder _folder = new("causeway-agent-db");
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Query_WrongDatabasePassword_ReportsTheDatabasesErrorWithoutSecrets()
    {
        const string RightPassword = "right-Canary-5a1e";
        const string WrongPassword = "wrong-Canary-93d7";
        var role = $"gw_login_{Guid.NewGuid():N}"[..24];
        await RequirePasswordAsync(role, RightPassword);
        var dir = _folder.Combine("a");
        var (cluster, member) = await Agents.RegisterAsync(_host, dir, "hq");
        await using var agent = Agents.Start(dir);
        await Agents.WaitForStatusAsync(_host, cluster, member, "online");
        var url = await Agents.BindAsync(_host, cluster, new
        {
            name = "erp",
            type = "postgresql",
            connection = new { host = "127.0.0.1", port = postgres.Port, database = "postgres" },
            credentials = new { username = role, password = WrongPassword },
        });
        using var client = _host.Client(_host.AdminToken);

        var response = await client.GetAsync(url + "$metadata");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("DataSourceLoginFailed", error.GetProperty("code").GetString());
        Assert.Contains("28P01", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("password authentication failed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        foreach (var secret in new[] { WrongPassword, RightPassword })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, agent.Output, StringComparison.Ordinal);
        }

        Assert.Contains("28P01", agent.Output, StringComparison.Ordinal);
    }

    /// <summary>Creates the role and makes the server check its password over TCP (the fixture trusts everyone else).</summary>
    private async Task RequirePasswordAsync(string role, string password)
    {
        await using var connection = new NpgsqlConnection(postgres.AdminConnectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE ROLE {role} LOGIN PASSWORD '{password}'", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using var hba = new NpgsqlCommand("SELECT setting FROM pg_settings WHERE name = 'hba_file'", connection);
        var path = (string)(await hba.ExecuteScalarAsync())!;
        var rules = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, $"host all {role} 127.0.0.1/32 scram-sha-256\n" + rules);
        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        await reload.ExecuteScalarAsync();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Username = role, Password = "not-it" };
                await using var probe = new NpgsqlConnection(builder.ConnectionString);
                await probe.OpenAsync();
                return false;
            }
            catch (PostgresException e) when (e.SqlState == "28P01")
            {
                return true;
            }
        }, TimeSpan.FromSeconds(10), "PostgreSQL to check the new role's password");
    }
}
