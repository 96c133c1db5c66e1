using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Security;
using Causeway.Testing;

namespace Causeway.Desktop.Tests;

/// <summary>
/// One in-process server (short queue timeout, quick polling) and one <c>causeway-desktop</c> process shared by the run
/// tests; tests that kill or group machines start agents of their own.
/// </summary>
public sealed class DesktopRunsFixture : IAsyncLifetime
{
    public const string Shout = """
        {
          "schemaVersion": 1,
          "name": "shout",
          "inputs": [
            {"name": "text", "type": "string", "required": true},
            {"name": "userName", "type": "string"},
            {"name": "password", "type": "secret"}
          ],
          "outputs": [{"name": "loud", "type": "string"}],
          "actions": [
            {"id": "up", "type": "text.upper", "text": "%text%", "result": "loud"},
            {"id": "sign-in", "type": "file.write", "path": "signed-in-%text%.txt", "content": "%userName%:%password%"}
          ]
        }
        """;

    public const string Slow = """
        {"schemaVersion": 1, "name": "slow", "actions": [{"id": "nap", "type": "wait", "seconds": 60}, {"id": "after", "type": "variable.set", "name": "done", "value": true}]}
        """;

    public TempFolder Folder { get; } = new("causeway-desktop-runs");

    public ServerHost Server { get; private set; } = null!;

    public Guid Environment { get; private set; }

    public string Root => Folder.Combine("root");

    public Guid Machine { get; private set; }

    public ProgramProcess Agent { get; private set; } = null!;

    public Guid ShoutFlow { get; private set; }

    public Guid SlowFlow { get; private set; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        Server = await ServerHost.StartAsync(new Dictionary<string, string?>
        {
            ["DesktopFlows:QueueTimeout"] = "00:00:03",
            ["DesktopFlows:PollInterval"] = "00:00:00.100",
            ["DesktopFlows:OfflineGrace"] = "00:00:02",
        });
        using var admin = Client();
        Environment = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray().First().GetProperty("id").GetGuid();
        ShoutFlow = await CreateFlowAsync(Shout);
        SlowFlow = await CreateFlowAsync(Slow);
        (Machine, var dataDir) = await RegisterAsync("m1", "--root", Root);
        Agent = AgentProcess.Start("run", "--data-dir", dataDir);
        await WaitForMachineAsync(Machine, "online");
    }

    public async Task DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Server.DisposeAsync();
        Folder.Dispose();
    }

    public HttpClient Client() => Server.Client(Server.AdminToken);

    public string Runs(Guid flow) => $"/api/v1/environments/{Environment}/desktopflows/{flow}/runs";

    public async Task<Guid> CreateFlowAsync(string definition)
    {
        using var admin = Client();
        var created = await admin.PostAsync($"/api/v1/environments/{Environment}/desktopflows", new StringContent(definition, Encoding.UTF8, "application/json"));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>Runs <c>causeway-desktop register</c> as a process; returns the machine id and its data folder.</summary>
    public async Task<(Guid Machine, string DataDir)> RegisterAsync(string name, params string[] extra)
    {
        var dataDir = Folder.Combine("agents", name);
        var (code, output) = await AgentProcess.RunAsync([
            "register", "--server", Server.BaseAddress.ToString(), "--token", Server.AdminToken, "--environment", Environment.ToString(), "--name", name,
            "--data-dir", dataDir, "--trust-certificate", Path.Combine(Server.DataDirectory, "certificate.pem"), "--json", "--kdf-iterations", "100000", .. extra]);
        Assert.True(code == 0, $"register failed ({code}): {output}");
        return (JsonDocument.Parse(output).RootElement.GetProperty("machineId").GetGuid(), dataDir);
    }

    public async Task<JsonElement> MachineAsync(Guid machine)
    {
        using var admin = Client();
        return await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{Environment}/machines/{machine}");
    }

    public async Task WaitForMachineAsync(Guid machine, string status) =>
        await Poll.UntilAsync(async () => (await MachineAsync(machine)).GetProperty("status").GetString() == status, TimeSpan.FromSeconds(30), $"machine {machine} to be {status}");

    public async Task<(HttpStatusCode Status, JsonElement Body)> StartRunAsync(Guid flow, object body)
    {
        using var admin = Client();
        var response = await admin.PostAsJsonAsync(Runs(flow), body);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task<Guid> StartRunOkAsync(Guid flow, object body)
    {
        var (status, run) = await StartRunAsync(flow, body);
        Assert.True(status == HttpStatusCode.Accepted, run.ToString());
        Assert.Equal("queued", run.GetProperty("status").GetString());
        return run.GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> RunAsync(Guid flow, Guid run)
    {
        using var admin = Client();
        return await admin.GetFromJsonAsync<JsonElement>($"{Runs(flow)}/{run}");
    }

    /// <summary>Waits until the run has <paramref name="status"/> and returns it.</summary>
    public async Task<JsonElement> WaitForRunAsync(Guid flow, Guid run, string status, int seconds = 30)
    {
        JsonElement last = default;
        await Poll.UntilAsync(async () =>
        {
            last = await RunAsync(flow, run);
            return last.GetProperty("status").GetString() == status;
        }, TimeSpan.FromSeconds(seconds), $"run {run} to be {status}");
        return last;
    }
}

public sealed class DesktopRunsTests(DesktopRunsFixture fixture) : IClassFixture<DesktopRunsFixture>
{
    private const string CanaryUser = "canary-user-5f0c1e7a";
    private const string CanaryPassword = "canary-password-9b3d77e2c4";

    [Fact]
    public async Task Run_WithInputsAndConnection_SucceedsOnAgentAndCanariesAppearOnlyOnTheMachine()
    {
        var runId = await fixture.StartRunOkAsync(fixture.ShoutFlow, new
        {
            inputs = new { text = "hello" },
            machine = "m1",
            connection = new { userName = CanaryUser, password = CanaryPassword },
        });

        var run = await fixture.WaitForRunAsync(fixture.ShoutFlow, runId, "succeeded");
        using var admin = fixture.Client();
        var list = await admin.GetStringAsync(fixture.Runs(fixture.ShoutFlow));
        var machines = await admin.GetStringAsync($"/api/v1/environments/{fixture.Environment}/machines");

        Assert.Equal("HELLO", run.GetProperty("outputs").GetProperty("loud").GetString());
        Assert.Equal(["up", "sign-in"], run.GetProperty("log").EnumerateArray().Select(e => e.GetProperty("actionId").GetString()));
        Assert.All(run.GetProperty("log").EnumerateArray(), e => Assert.Equal("Succeeded", e.GetProperty("status").GetString()));
        Assert.Equal(fixture.Machine, run.GetProperty("machine").GetProperty("id").GetGuid());
        Assert.True(run.GetProperty("durationMs").GetInt64() >= 0);
        Assert.Contains(runId.ToString(), list, StringComparison.Ordinal);
        // The effect proves the agent opened the connection; nothing the cloud holds or says contains it.
        Assert.Equal($"{CanaryUser}:{CanaryPassword}", await File.ReadAllTextAsync(Path.Combine(fixture.Root, "signed-in-hello.txt")));
        foreach (var canary in new[] { CanaryUser, CanaryPassword })
        {
            Assert.DoesNotContain(canary, run.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(canary, list, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, machines, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, fixture.Agent.Output, StringComparison.Ordinal);
            foreach (var file in Directory.EnumerateFiles(fixture.Server.DataDirectory, "*", SearchOption.AllDirectories))
            {
                var bytes = await ReadSharedAsync(file);
                Assert.False(Contains(bytes, canary), $"{canary} found in {file}");
            }
        }
    }

    [Fact]
    public async Task MachineStatus_OnlineAgent_ReportsOnlineWithVersion_BusyWhileRunning()
    {
        JsonElement idle = default;
        await Poll.UntilAsync(async () =>
        {
            idle = await fixture.MachineAsync(fixture.Machine);
            return idle.TryGetProperty("version", out _);
        }, TimeSpan.FromSeconds(20), "the machine to report its agent's version");
        var runId = await fixture.StartRunOkAsync(fixture.SlowFlow, new { machine = fixture.Machine.ToString() });
        await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "running");
        var busy = await fixture.MachineAsync(fixture.Machine);
        using var admin = fixture.Client();
        (await admin.PostAsync($"{fixture.Runs(fixture.SlowFlow)}/{runId}/cancel", null)).EnsureSuccessStatusCode();
        await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "cancelled");

        Assert.Equal("online", idle.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(idle.GetProperty("version").GetString()));
        Assert.Equal("busy", busy.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cancel_RunningRun_ReachesTheAgentWhichStopsTheInterpreter()
    {
        var runId = await fixture.StartRunOkAsync(fixture.SlowFlow, new { machine = "m1" });
        await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "running");
        using var admin = fixture.Client();

        var cancel = await admin.PostAsync($"{fixture.Runs(fixture.SlowFlow)}/{runId}/cancel", null);
        var run = await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "cancelled", seconds: 20);
        var again = await admin.PostAsync($"{fixture.Runs(fixture.SlowFlow)}/{runId}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var log = run.GetProperty("log").EnumerateArray().ToList();
        Assert.Equal("Cancelled", log[0].GetProperty("status").GetString());
        Assert.Equal("Skipped", log[1].GetProperty("status").GetString());
        Assert.True(run.GetProperty("endedAt").GetDateTimeOffset() - run.GetProperty("startedAt").GetDateTimeOffset() < TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Run_ActionFails_RunFailsWithTheActionsErrorAndLaterActionsSkipped()
    {
        var flow = await fixture.CreateFlowAsync("""
            {"schemaVersion": 1, "name": "broken", "actions": [
              {"id": "read", "type": "file.read", "path": "missing.txt", "result": "text"},
              {"id": "after", "type": "variable.set", "name": "done", "value": true}
            ]}
            """);

        var run = await fixture.WaitForRunAsync(flow, await fixture.StartRunOkAsync(flow, new { machine = "m1" }), "failed");

        Assert.Equal("read", run.GetProperty("failedActionId").GetString());
        Assert.Contains("missing.txt", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(["Failed", "Skipped"], run.GetProperty("log").EnumerateArray().Select(e => e.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Run_FileActionOutsideRoots_Refused()
    {
        var outside = Path.Combine(Path.GetTempPath(), $"causeway-outside-{Guid.NewGuid():N}.txt");
        var flow = await fixture.CreateFlowAsync($$"""
            {"schemaVersion": 1, "name": "escape", "actions": [
              {"id": "write", "type": "file.write", "path": "{{outside}}", "content": "x"}
            ]}
            """);

        var run = await fixture.WaitForRunAsync(flow, await fixture.StartRunOkAsync(flow, new { machine = "m1" }), "failed");

        Assert.Contains("outside the folders this machine allows", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(outside));
    }

    [Fact]
    public async Task Run_MachineOffline_WaitsThenTimesOutWithAClearReason()
    {
        using var key = GatewayEnvelope.CreateKey();
        using var admin = fixture.Client();
        var registered = await admin.PostAsJsonAsync($"/api/v1/environments/{fixture.Environment}/machines", new { name = "never-online", publicKey = GatewayEnvelope.ExportPublicKey(key) });
        registered.EnsureSuccessStatusCode();
        var machine = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("machine").GetProperty("id").GetGuid();

        var runId = await fixture.StartRunOkAsync(fixture.ShoutFlow, new { inputs = new { text = "x" }, machine = machine.ToString() });
        var queued = await fixture.RunAsync(fixture.ShoutFlow, runId);
        var run = await fixture.WaitForRunAsync(fixture.ShoutFlow, runId, "timedOut", seconds: 20);

        Assert.Equal("offline", (await fixture.MachineAsync(machine)).GetProperty("status").GetString());
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.Equal("No machine took the run within the queue timeout (3 s): its machine was offline (no agent connected).", run.GetProperty("reason").GetString());
        Assert.False(run.TryGetProperty("startedAt", out _));
    }

    [Fact]
    public async Task Run_AgentKilledDuringRun_MarkedFailedWithTheReason()
    {
        var (machine, dataDir) = await fixture.RegisterAsync("doomed", "--root", fixture.Root);
        await using var agent = AgentProcess.Start("run", "--data-dir", dataDir);
        await fixture.WaitForMachineAsync(machine, "online");
        var runId = await fixture.StartRunOkAsync(fixture.SlowFlow, new { machine = "doomed" });
        await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "running");
        // Running on the server's side is not enough: the agent must have started it (before that, a vanished machine only sends the run back to the queue).
        await Poll.UntilAsync(() => Task.FromResult(agent.Output.Contains($"Run {runId} of 'slow' started", StringComparison.Ordinal)), TimeSpan.FromSeconds(20),
            "the agent to start the run");

        await agent.KillAsync();
        var run = await fixture.WaitForRunAsync(fixture.SlowFlow, runId, "failed", seconds: 30);

        Assert.StartsWith("The machine went offline during the run", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
        await fixture.WaitForMachineAsync(machine, "offline");
    }

    [Fact]
    public async Task Group_TwoMembers_RunsGoToIdleMembersAndGroupConnectionOpensOnEither()
    {
        using var admin = fixture.Client();
        var created = await admin.PostAsJsonAsync($"/api/v1/environments/{fixture.Environment}/machinegroups", new { name = "pool" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var (first, firstDir) = await fixture.RegisterAsync("pool-a", "--group", "pool", "--group-password", "group-password-1", "--root", fixture.Root);
        var wrong = await AgentProcess.RunAsync("register", "--server", fixture.Server.BaseAddress.ToString(), "--token", fixture.Server.AdminToken,
            "--environment", fixture.Environment.ToString(), "--name", "pool-x", "--group", "pool", "--group-password", "not-the-password",
            "--data-dir", fixture.Folder.Combine("agents", "pool-x"), "--trust-certificate", Path.Combine(fixture.Server.DataDirectory, "certificate.pem"));
        var (second, secondDir) = await fixture.RegisterAsync("pool-b", "--group", "pool", "--group-password", "group-password-1", "--root", fixture.Root);
        await using var agentA = AgentProcess.Start("run", "--data-dir", firstDir);
        await using var agentB = AgentProcess.Start("run", "--data-dir", secondDir);
        await fixture.WaitForMachineAsync(first, "online");
        await fixture.WaitForMachineAsync(second, "online");

        var slow = await fixture.StartRunOkAsync(fixture.SlowFlow, new { group = "pool" });
        var busyMember = (await fixture.WaitForRunAsync(fixture.SlowFlow, slow, "running")).GetProperty("machine").GetProperty("id").GetGuid();
        var shout = await fixture.StartRunOkAsync(fixture.ShoutFlow, new
        {
            inputs = new { text = "pooled" },
            group = "pool",
            connection = new { userName = CanaryUser, password = CanaryPassword },
        });
        var done = await fixture.WaitForRunAsync(fixture.ShoutFlow, shout, "succeeded");
        var group = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{fixture.Environment}/machinegroups/pool");
        var deleteWithMembers = await admin.DeleteAsync($"/api/v1/environments/{fixture.Environment}/machinegroups/pool");
        (await admin.PostAsync($"{fixture.Runs(fixture.SlowFlow)}/{slow}/cancel", null)).EnsureSuccessStatusCode();

        Assert.Equal(1, wrong.Code);
        Assert.Contains("group password does not open", wrong.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(fixture.Folder.Combine("agents", "pool-x", "agent.json")));
        Assert.NotEqual(busyMember, done.GetProperty("machine").GetProperty("id").GetGuid());
        Assert.Contains(done.GetProperty("machine").GetProperty("id").GetGuid(), new[] { first, second });
        Assert.Equal($"{CanaryUser}:{CanaryPassword}", await File.ReadAllTextAsync(Path.Combine(fixture.Root, "signed-in-pooled.txt")));
        Assert.Equal(["pool-a", "pool-b"], group.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("name").GetString()).Order());
        Assert.DoesNotContain("group-password-1", group.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, deleteWithMembers.StatusCode);
    }

    [Fact]
    public async Task StartRun_BadInput_RefusedAndNothingQueued()
    {
        var before = await Count();

        var both = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x" }, machine = "m1", group = "pool" });
        var neither = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x" } });
        var unknownInput = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x", colour = "red" }, machine = "m1" });
        var missing = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { }, machine = "m1" });
        var secretInClear = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x", password = "p" }, machine = "m1" });
        var tooLarge = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = new string('x', (2 * 1024 * 1024) + 1) }, machine = "m1" });
        var noMachine = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x" }, machine = "nowhere" });
        var timeLimit = await fixture.StartRunAsync(fixture.ShoutFlow, new { inputs = new { text = "x" }, machine = "m1", timeLimitSeconds = 86_401 });

        Assert.All(new[] { both, neither, unknownInput, missing, secretInClear, tooLarge, noMachine, timeLimit }, r => Assert.Equal(HttpStatusCode.BadRequest, r.Status));
        Assert.Contains("'colour' is not an input", unknownInput.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("required input 'text'", missing.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("secret input", secretInClear.Body.ToString(), StringComparison.Ordinal);
        Assert.Contains("2 MB", tooLarge.Body.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, await Count());
    }

    private async Task<int> Count()
    {
        using var admin = fixture.Client();
        return (await admin.GetFromJsonAsync<JsonElement>(fixture.Runs(fixture.ShoutFlow))).GetArrayLength();
    }

    /// <summary>The file's bytes; none for a file that vanished since it was listed (a database journal, say).</summary>
    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0 || haystack.AsSpan().IndexOf(Encoding.Unicode.GetBytes(needle)) >= 0;
}
