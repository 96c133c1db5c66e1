using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Causeway.Testing;

/// <summary>
/// One of the project's programs (the server, the CLI, an agent) as its own process, started with <c>dotnet</c> from the
/// program's own build folder, with everything it prints to stdout and stderr collected in order.
/// </summary>
public sealed class ProgramProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ProgramProcess(Process process) => _process = process;

    /// <summary>Everything printed so far.</summary>
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

    public int Id => _process.Id;

    /// <summary>
    /// A program's assembly in its own build folder (artifacts/bin/{project}/{configuration}/, the layout of every
    /// project of the tree). The copy next to a test lacks assemblies that ASP.NET's shared framework gives the test but
    /// not a plain console program, so programs run from there.
    /// </summary>
    public static string Locate(string project, string assembly)
    {
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(own.Parent!.Parent!.FullName, project, own.Name, assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assembly} is not built at {path}; build the solution first.", path);
    }

    /// <summary>Starts <paramref name="program"/>; an environment value of null removes that variable from what the child inherits.</summary>
    public static ProgramProcess Start(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var child = new ProgramProcess(Process.Start(start)!);
        child._process.OutputDataReceived += (_, e) => child.Append(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs one command to its end (at most a minute); returns its exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        await using var child = Start(program, args, environment);
        var code = await child.WaitAsync();
        return (code, child.Output);
    }

    /// <summary>Waits for the process to end (at most a minute) and returns its exit code.</summary>
    public async Task<int> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after 60 s waiting for {_process.StartInfo.ArgumentList[0]} to exit. It printed:\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the process prints a line starting with <paramref name="prefix"/> and returns the rest of that line.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout, string what)
    {
        await Poll.UntilAsync(() => Output.Contains(prefix, StringComparison.Ordinal) || _process.HasExited, timeout, what);
        var line = Output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The process exited (code {_process.ExitCode}) before {what}. It printed:\n{Output}"));
        return line[prefix.Length..].Trim();
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
