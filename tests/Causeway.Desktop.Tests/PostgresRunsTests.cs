using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Testing;

namespace Causeway.Desktop.Tests;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>The same runs and groups with the platform database on PostgreSQL (every query of the run store runs there).</summary>
[Collection("postgres")]
public sealed class PostgresRunsTests(PostgresServer postgres)
{
    [Fact]
    public async Task Runs_OnPostgres_GroupRunSucceedsQueuedRunCancelledOfflineRunTimesOut()
    {
        using var folder = new TempFolder("causeway-desktop-pg");
        var root = folder.Combine("root");
        Directory.CreateDirectory(root);
        await using var server = await ServerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "postgresql",
            ["Database:ConnectionString"] = await postgres.CreateDatabaseAsync($"platform_{Guid.NewGuid():N}"),
            ["DesktopFlows:QueueTimeout"] = "00:00:02",
            ["DesktopFlows:PollInterval"] = "00:00:00.100",
        });
        using var admin = server.Client(server.AdminToken);
        var environment = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray().First().GetProperty("id").GetGuid();
        var flowResponse = await admin.PostAsync($"/api/v1/environments/{environment}/desktopflows", new StringContent(DesktopRunsFixture.Shout, Encoding.UTF8, "application/json"));
        var flow = (await flowResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var runs = $"/api/v1/environments/{environment}/desktopflows/{flow}/runs";
        (await admin.PostAsJsonAsync($"/api/v1/environments/{environment}/machinegroups", new { name = "pg-pool" })).EnsureSuccessStatusCode();
        var register = await AgentProcess.RunAsync("register", "--server", server.BaseAddress.ToString(), "--token", server.AdminToken, "--environment", "default",
            "--name", "pg-1", "--group", "pg-pool", "--group-password", "pg-group-password", "--root", root, "--data-dir", folder.Combine("agent"),
            "--trust-certificate", Path.Combine(server.DataDirectory, "certificate.pem"), "--kdf-iterations", "100000");
        Assert.True(register.Code == 0, register.Output);

        // No agent running yet: one run is cancelled while queued, one waits out the queue timeout.
        var cancelled = await StartAsync(admin, runs, new { inputs = new { text = "a" }, machine = "pg-1" });
        var cancel = await admin.PostAsync($"{runs}/{cancelled}/cancel", null);
        var offline = await StartAsync(admin, runs, new { inputs = new { text = "b" }, group = "pg-pool" });
        var timedOut = await WaitAsync(admin, runs, offline, "timedOut");

        await using var agent = AgentProcess.Start("run", "--data-dir", folder.Combine("agent"));
        var pooled = await StartAsync(admin, runs, new { inputs = new { text = "pg" }, group = "pg-pool", connection = new { userName = "u", password = "pg-secret" } });
        var succeeded = await WaitAsync(admin, runs, pooled, "succeeded");
        var list = await admin.GetFromJsonAsync<JsonElement>(runs);
        var machines = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{environment}/machines");

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("cancelled", (await admin.GetFromJsonAsync<JsonElement>($"{runs}/{cancelled}")).GetProperty("status").GetString());
        Assert.Equal("No machine took the run within the queue timeout (2 s): every machine of its group was offline (no agent connected).", timedOut.GetProperty("reason").GetString());
        Assert.Equal("PG", succeeded.GetProperty("outputs").GetProperty("loud").GetString());
        Assert.Equal("u:pg-secret", await File.ReadAllTextAsync(Path.Combine(root, "signed-in-pg.txt")));
        Assert.Equal(["succeeded", "timedOut", "cancelled"], list.EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.Equal("pg-1", Assert.Single(machines.EnumerateArray()).GetProperty("name").GetString());
    }

    private static async Task<Guid> StartAsync(HttpClient admin, string runs, object body)
    {
        var response = await admin.PostAsJsonAsync(runs, body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> WaitAsync(HttpClient admin, string runs, Guid run, string status)
    {
        JsonElement last = default;
        await Poll.UntilAsync(async () =>
        {
            last = await admin.GetFromJsonAsync<JsonElement>($"{runs}/{run}");
            return last.GetProperty("status").GetString() == status;
        }, TimeSpan.FromSeconds(60), $"run {run} to be {status} (the agent is a separate dotnet process: slow to start on a loaded machine)");
        return last;
    }
}
