using System.Diagnostics;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

/// <summary>Finds the built programs next to this test's own output and runs them as processes.</summary>
public static class Programs
{
    public static string Server => ProgramProcess.Locate("Causeway.Server", "Causeway.Server.dll");

    public static string Cli => ProgramProcess.Locate("Causeway.Cli", "causeway.dll");

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
    private readonly ProgramProcess _process;

    private ServerProcess(ProgramProcess process, string dataDirectory, string url)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Url = url;
    }

    public string DataDirectory { get; }

    public string Url { get; }

    public string Log => _process.Output;

    public static async Task<ServerProcess> StartAsync(string dataDirectory)
    {
        var process = ProgramProcess.Start(Programs.Server, ["--data-dir", dataDirectory, "--port", "0"],
            new Dictionary<string, string?> { ["CAUSEWAY_Server__RelayPort"] = "0" });
        try
        {
            var url = await process.WaitForLineAsync("Causeway is ready at ", TimeSpan.FromSeconds(60), "the server process to print its ready line");
            return new ServerProcess(process, dataDirectory, url);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Saves a CLI profile for the first administrator (<c>causeway login</c>) and returns that administrator's token.</summary>
    public async Task<string> LoginAsync(string profile)
    {
        var token = (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "admin-token"))).Trim();
        var login = await Programs.CliAsync(profile, "login", "--url", Url, "--token", token, "--trust-certificate", Path.Combine(DataDirectory, "certificate.pem"));
        Assert.True(login.Code == 0, login.Error);
        return token;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
