using System.Diagnostics;
using System.Text;

namespace Causeway.Desktop.Tests;

/// <summary>The <c>causeway-desktop</c> program as its own process.</summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process) => _process = process;

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

    public bool HasExited => _process.HasExited;

    /// <summary>The agent in its own build folder (artifacts/bin/Causeway.Desktop.Agent/{configuration}/).</summary>
    public static string Program
    {
        get
        {
            var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var path = Path.Combine(own.Parent!.Parent!.FullName, "Causeway.Desktop.Agent", own.Name, "causeway-desktop.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The agent is not built at {path}.", path);
        }
    }

    public static AgentProcess Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Program);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var agent = new AgentProcess(Process.Start(start)!);
        agent._process.OutputDataReceived += (_, e) => agent.Append(e.Data);
        agent._process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        agent._process.BeginOutputReadLine();
        agent._process.BeginErrorReadLine();
        return agent;
    }

    /// <summary>Runs one command to its end; returns exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        await using var process = Start(args);
        var code = await process.WaitAsync();
        return (code, process.Output);
    }

    public async Task<int> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
