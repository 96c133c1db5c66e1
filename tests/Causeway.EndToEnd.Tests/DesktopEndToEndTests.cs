using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

/// <summary>The server, the <c>causeway</c> CLI and the <c>causeway-desktop</c> agent, each as its own process.</summary>
public sealed class DesktopEndToEndTests
{
    private const string CanaryUser = "e2e-canary-user-31d8a0";
    private const string CanaryPassword = "e2e-canary-password-c47f19be62";

    private const string Flow = """
        {
          "schemaVersion": 1,
          "name": "greet",
          "inputs": [
            {"name": "who", "type": "string", "required": true},
            {"name": "times", "type": "number", "default": 1},
            {"name": "userName", "type": "string"},
            {"name": "password", "type": "secret"}
          ],
          "outputs": [{"name": "greeting", "type": "string"}],
          "actions": [
            {"id": "greet", "type": "variable.set", "name": "greeting", "value": "Hello %who% x%times%"},
            {"id": "sign-in", "type": "file.write", "path": "session.txt", "content": "%userName%/%password%"}
          ]
        }
        """;

    [Fact]
    public async Task AgentProcess_RegistersAndRunsAFlowWithInputsOutputsAndACredentialOnlyItReads()
    {
        using var folder = new TempFolder("causeway-desktop-e2e");
        var root = folder.Combine("root");
        Directory.CreateDirectory(root);
        await using var server = await ServerProcess.StartAsync(folder.Combine("server"));
        var profile = folder.Combine("profile.json");
        var token = await server.LoginAsync(profile);
        await File.WriteAllTextAsync(folder.Combine("greet.json"), Flow);
        await File.WriteAllTextAsync(folder.Combine("password"), CanaryPassword + "\n");

        var created = await Programs.CliAsync(profile, "desktopflow", "create", "--environment", "default", "--file", folder.Combine("greet.json"), "--json");
        var register = await DesktopAgent.RunAsync("register", "--server", server.Url, "--token", token, "--environment", "default", "--name", "robot-1",
            "--data-dir", folder.Combine("agent"), "--trust-certificate", Path.Combine(server.DataDirectory, "certificate.pem"), "--root", root);
        await using var agent = DesktopAgent.Start("run", "--data-dir", folder.Combine("agent"));
        var machines = "";
        await Poll.UntilAsync(async () =>
        {
            machines = (await Programs.CliAsync(profile, "machine", "list", "--environment", "default", "--json")).Output;
            return machines.Contains("\"online\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), "machine robot-1 to be online");
        var status = await DesktopAgent.RunAsync("status", "--data-dir", folder.Combine("agent"), "--json");
        var run = await Programs.CliAsync(profile, "desktopflow", "run", "--environment", "default", "greet", "--machine", "robot-1",
            "--input", "who=world", "--input", "times=3", "--connection-user", CanaryUser, "--connection-password-file", folder.Combine("password"), "--wait", "--json");
        var runs = await Programs.CliAsync(profile, "desktopflow", "runs", "--environment", "default", "greet", "--json");
        var table = await Programs.CliAsync(profile, "desktopflow", "runs", "--environment", "default", "greet");
        var badMachine = await Programs.CliAsync(profile, "desktopflow", "run", "--environment", "default", "greet", "--machine", "nowhere", "--input", "who=x");
        var usage = await Programs.CliAsync(profile, "desktopflow", "run", "--environment", "default");

        Assert.True(created.Code == 0, created.Error);
        Assert.True(register.Code == 0, register.Output);
        Assert.True(JsonDocument.Parse(status.Output).RootElement.GetProperty("connected").GetBoolean(), status.Output);
        Assert.True(run.Code == 0, run.Output + run.Error + agent.Output);
        var result = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal("succeeded", result.GetProperty("status").GetString());
        Assert.Equal("Hello world x3", result.GetProperty("outputs").GetProperty("greeting").GetString());
        Assert.Equal(2, result.GetProperty("log").GetArrayLength());
        Assert.Equal("succeeded", JsonDocument.Parse(runs.Output).RootElement[0].GetProperty("status").GetString());
        Assert.Contains("succeeded", table.Output, StringComparison.Ordinal);
        Assert.Equal(1, badMachine.Code);
        Assert.Contains("no machine 'nowhere'", badMachine.Error, StringComparison.Ordinal);
        Assert.Equal(2, usage.Code);

        // Only the agent could read the credential: it wrote it on its machine; the server's files and log, the API's
        // answers (through the CLI) and the agent's own output never show it.
        Assert.Equal($"{CanaryUser}/{CanaryPassword}", await File.ReadAllTextAsync(Path.Combine(root, "session.txt")));
        var said = string.Join('\n', created.Output, machines, run.Output, run.Error, runs.Output, table.Output, server.Log, agent.Output, register.Output, status.Output);
        foreach (var canary in new[] { CanaryUser, CanaryPassword })
        {
            Assert.DoesNotContain(canary, said, StringComparison.Ordinal);
            foreach (var file in Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories))
            {
                Assert.True((await ReadSharedAsync(file)).AsSpan().IndexOf(Encoding.UTF8.GetBytes(canary)) < 0, $"{canary} found in {file}");
            }
        }
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
}

/// <summary>The <c>causeway-desktop</c> agent as its own process, from its own build folder.</summary>
internal static class DesktopAgent
{
    private static string Program => ProgramProcess.Locate("Causeway.Desktop.Agent", "causeway-desktop.dll");

    public static ProgramProcess Start(params string[] args) => ProgramProcess.Start(Program, args);

    /// <summary>Runs one command to its end; returns the exit code and everything it printed.</summary>
    public static Task<(int Code, string Output)> RunAsync(params string[] args) => ProgramProcess.RunAsync(Program, args);
}
