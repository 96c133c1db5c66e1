using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Testing;

namespace Causeway.Gateway.Tests;

[CollectionDefinition("gateway-postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>Everything as real processes: the server, two agents of one cluster, a private PostgreSQL with Chinook.</summary>
[Collection("gateway-postgres")]
public sealed class EndToEndTests(PostgresServer postgres)
{
    [Fact]
    public async Task TwoAgentProcesses_PostgresChinook_PrimaryKilledThenServerRestarted_QueriesKeepWorking()
    {
        await LoadChinookAsync("chinook_gw");
        using var folder = new TempFolder("causeway-gateway-e2e");
        var serverDir = folder.Combine("server");
        Directory.CreateDirectory(serverDir);
        var host = await GatewayHost.StartProcessAsync(serverDir);
        try
        {
            var cluster = await RegisterAsync(host, folder.Combine("a"), "hq", null);
            await RegisterAsync(host, folder.Combine("b"), "hq-2", cluster);
            await using var primary = AgentProcess.Start("run", "--data-dir", folder.Combine("a"), "--recovery-key", GatewayHost.RecoveryKey);
            await using var secondary = AgentProcess.Start("run", "--data-dir", folder.Combine("b"), "--recovery-key", GatewayHost.RecoveryKey);
            await WaitOnlineAsync(host, cluster, 2);
            var url = await Agents.BindAsync(host, cluster, new
            {
                name = "chinook",
                type = "postgresql",
                connection = new { host = "127.0.0.1", port = postgres.Port, database = "chinook_gw" },
                credentials = new { username = "postgres", password = "not-needed-with-trust" },
            });

            Assert.True(await FirstArtistAsync(host, url) == "AC/DC", primary.Output + secondary.Output);
            await primary.KillAsync();
            await WaitOnlineAsync(host, cluster, 1);
            Assert.Equal("AC/DC", await FirstArtistAsync(host, url));

            var port = host.BaseAddress.Port;
            await host.DisposeAsync();
            host = await GatewayHost.StartProcessAsync(serverDir, port);
            await WaitOnlineAsync(host, cluster, 1, TimeSpan.FromSeconds(60));
            Assert.Equal("AC/DC", await FirstArtistAsync(host, url));
            Assert.Contains("Connected to", secondary.Output, StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private async Task LoadChinookAsync(string database)
    {
        await postgres.CreateDatabaseAsync(database);
        var lines = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_PostgreSql.sql"));
        var script = Path.Combine(Path.GetTempPath(), $"chinook-gw-{Guid.NewGuid():N}.sql");
        // The dump creates and connects to a database of its own; load only its tables into ours.
        await File.WriteAllLinesAsync(script, lines.Where(l => !l.StartsWith("DROP DATABASE", StringComparison.Ordinal) && !l.StartsWith("CREATE DATABASE", StringComparison.Ordinal) && !l.StartsWith("\\c ", StringComparison.Ordinal)));
        try
        {
            await postgres.RunScriptAsync(database, script);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static async Task<Guid> RegisterAsync(GatewayHost host, string dataDir, string name, Guid? cluster)
    {
        var args = new List<string>
        {
            "register", "--server", host.BaseAddress.ToString(), "--token", host.AdminToken, "--name", name, "--region", "unitedstates",
            "--recovery-key", GatewayHost.RecoveryKey, "--data-dir", dataDir, "--trust-certificate", host.CertificatePath, "--json", "--kdf-iterations", "100000",
        };
        if (cluster is { } id)
        {
            args.AddRange(["--cluster", id.ToString()]);
        }

        await using var process = AgentProcess.Start([.. args]);
        var code = await process.WaitAsync();
        Assert.True(code == 0, $"register exited with {code}: {process.Output}");
        return JsonDocument.Parse(process.Output.Trim()).RootElement.GetProperty("clusterId").GetGuid();
    }

    private static async Task WaitOnlineAsync(GatewayHost host, Guid cluster, int count, TimeSpan? timeout = null)
    {
        using var client = host.Client(host.AdminToken);
        await Poll.UntilAsync(async () =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{cluster}")).GetProperty("members").EnumerateArray().Count(m => m.GetProperty("status").GetString() == "online") == count,
            timeout ?? TimeSpan.FromSeconds(30), $"{count} member(s) of the cluster to be online");
    }

    private static async Task<string?> FirstArtistAsync(GatewayHost host, string url)
    {
        using var client = host.Client(host.AdminToken);
        var response = await client.GetAsync(url + "artist?$orderby=artist_id&$top=1");
        var text = await response.Content.ReadAsStringAsync();
        return response.StatusCode != HttpStatusCode.OK ? text : JsonDocument.Parse(text).RootElement.GetProperty("value")[0].GetProperty("name").GetString();
    }
}

/// <summary>The agent program as its own process; the recovery key is never inherited from the test's environment.</summary>
internal static class AgentProcess
{
    private static string Program => ProgramProcess.Locate("Causeway.Gateway.Agent", "causeway-gateway.dll");

    public static ProgramProcess Start(params string[] args) =>
        ProgramProcess.Start(Program, args, new Dictionary<string, string?> { [Causeway.Gateway.Agent.AgentApp.RecoveryKeyVariable] = null });
}
