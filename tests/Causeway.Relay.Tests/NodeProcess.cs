using System.Collections.Concurrent;
using System.Diagnostics;

namespace Causeway.Relay.Tests;

/// <summary>A Node script run by a test; its stdout lines are collected for assertions.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private NodeProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public IReadOnlyCollection<string> Lines => _lines.ToArray();

    /// <summary>Everything the script printed, for failure messages.</summary>
    public string Output => $"stdout: {string.Join(" | ", _lines)}; stderr: {string.Join(" | ", _errors)}";

    public static NodeProcess Start(string directory, string script, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(directory, script)])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        return new NodeProcess(Process.Start(info)!);
    }

    /// <summary>Waits for a stdout line starting with <paramref name="prefix"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan? timeout = null)
    {
        string? found = null;
        await Wait.UntilAsync(
            () => (found = _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))) is not null,
            $"node to print '{prefix}' (stdout: {string.Join(" | ", _lines)}; stderr: {string.Join(" | ", _errors)})",
            timeout);
        return found!;
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Wait.DefaultTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Timed out waiting for node to exit (stdout: {string.Join(" | ", _lines)}; stderr: {string.Join(" | ", _errors)})");
        }

        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
