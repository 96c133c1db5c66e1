using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Causeway.Gateway.Benchmarks;

/// <summary>
/// <c>causeway-gateway</c> as its own process, from its own build folder: <c>register</c> (a new cluster), then <c>run</c>
/// with the recovery key (and the broker URI, over RabbitMQ) in environment variables rather than on the command line.
/// </summary>
internal sealed class AgentProcess : IAsyncDisposable
{
    private const string RecoveryKey = "recovery key of the gateway benchmark";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process, Guid clusterId, Guid memberId)
    {
        _process = process;
        ClusterId = clusterId;
        MemberId = memberId;
    }

    public Guid ClusterId { get; }

    public Guid MemberId { get; }

    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// The agent next to this program's build folder (artifacts/bin/Causeway.Gateway.Agent/{configuration}/): the copy a
    /// reference would place here lacks what ASP.NET's shared framework gives this program but not a console one.
    /// </summary>
    private static string Program
    {
        get
        {
            var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(own.Parent!.Parent!.FullName, "Causeway.Gateway.Agent", own.Name, "causeway-gateway.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The agent is not built at {path}.", path);
        }
    }

    /// <summary><c>causeway-gateway register</c>: a new cluster with this agent as its first member.</summary>
    public static async Task<(Guid ClusterId, Guid MemberId)> RegisterAsync(Uri server, string token, string certificatePath, string dataDir)
    {
        using var register = Start(new Dictionary<string, string>(), "register", "--server", server.ToString(), "--token", token, "--name", "bench", "--region", "unitedstates",
            "--recovery-key", RecoveryKey, "--data-dir", dataDir, "--trust-certificate", certificatePath, "--json", "--kdf-iterations", "100000");
        var stdout = register.StandardOutput.ReadToEndAsync();
        var stderr = register.StandardError.ReadToEndAsync();
        await register.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (register.ExitCode != 0)
        {
            throw new InvalidOperationException($"causeway-gateway register exited with {register.ExitCode}: {await stderr}");
        }

        var json = JsonDocument.Parse((await stdout).Trim()).RootElement;
        return (json.GetProperty("clusterId").GetGuid(), json.GetProperty("memberId").GetGuid());
    }

    /// <summary><c>causeway-gateway run</c> of a registered member; <paramref name="environment"/> adds variables (e.g. the broker URI).</summary>
    public static AgentProcess Run(string dataDir, Guid clusterId, Guid memberId, IReadOnlyDictionary<string, string> environment)
    {
        var run = Start(environment, "run", "--data-dir", dataDir);
        var agent = new AgentProcess(run, clusterId, memberId);
        run.OutputDataReceived += (_, e) => agent.Append(e.Data);
        run.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Polls the agent's output until it contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || watch.Elapsed > timeout)
            {
                throw new TimeoutException($"The agent did not print '{text}' within {timeout.TotalSeconds} s: {Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Polls the cluster until this member reports online.</summary>
    public async Task WaitOnlineAsync(HttpClient client, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The agent exited with {_process.ExitCode}: {Output}");
            }

            var cluster = await client.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{ClusterId}");
            if (cluster.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetGuid() == MemberId && m.GetProperty("status").GetString() == "online"))
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The agent was not online after {timeout.TotalSeconds} s: {Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Program);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["CAUSEWAY_GATEWAY_RECOVERY_KEY"] = RecoveryKey;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("causeway-gateway did not start.");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
