using System.Diagnostics;
using System.Text;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

/// <summary>Finds the built programs next to this test's own output and runs them as processes.</summary>
public static class Programs
{
    private static string Sibling(string project, string file)
    {
        // artifacts/bin/{project}/{configuration}/ — the same layout for every project of the tree.
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(own.Parent!.Parent!.FullName, project, own.Name, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{file} is not built at {path}; build the solution first.", path);
    }

    public static string Server => Sibling("Causeway.Server", "Causeway.Server.dll");

    public static string Cli => Sibling("Causeway.Cli", "causeway.dll");

    /// <summary>Runs the CLI to completion; returns exit code, stdout and stderr.</summary>
    public static async Task<(int Code, string Output, string Error)> CliAsync(string profile, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Cli);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["CAUSEWAY_PROFILE"] = profile;
        start.Environment.Remove("CAUSEWAY_URL");
        start.Environment.Remove("CAUSEWAY_TOKEN");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}

/// <summary>The server as a separate process on a free port with its own data folder.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServerProcess(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public string Url { get; private set; } = "";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(string dataDirectory)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Programs.Server, "--data-dir", dataDirectory, "--port", "0" })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["CAUSEWAY_Server__RelayPort"] = "0";
        var server = new ServerProcess(Process.Start(start)!, dataDirectory);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        const string Ready = "Causeway is ready at ";
        await Poll.UntilAsync(() => server.Log.Contains(Ready, StringComparison.Ordinal) || server._process.HasExited, TimeSpan.FromSeconds(60),
            "the server process to print its ready line");
        var line = server.Log.Split('\n').FirstOrDefault(l => l.StartsWith(Ready, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The server exited before it was ready:\n{server.Log}");
        server.Url = line[Ready.Length..].Trim();
        return server;
    }

    /// <summary>Saves a CLI profile for the first administrator (<c>causeway login</c>) and returns that administrator's token.</summary>
    public async Task<string> LoginAsync(string profile)
    {
        var token = (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "admin-token"))).Trim();
        var login = await Programs.CliAsync(profile, "login", "--url", Url, "--token", token, "--trust-certificate", Path.Combine(DataDirectory, "certificate.pem"));
        Assert.True(login.Code == 0, login.Error);
        return token;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
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
}
