using System.CommandLine;

namespace Causeway.Agents;

/// <summary>
/// How an agent's command line ends: exit code 0 on success, 1 with one line on stderr for a failure the agent
/// explains (<see cref="AgentException"/>, a file it cannot read or write, a server that does not answer), 2 for a
/// usage error.
/// </summary>
public static class AgentCommandLine
{
    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> and runs the chosen command.</summary>
    public static async Task<int> InvokeAsync(string program, RootCommand root, string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync($"{program}: {e.Message}");
            }

            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    /// <summary>Runs a command that has no exit code of its own.</summary>
    public static Task<int> GuardAsync(string program, TextWriter error, Func<Task> action) => GuardAsync(program, error, async () =>
    {
        await action();
        return 0;
    });

    /// <summary>Runs a command, turning the failures an agent explains into one line and exit code 1.</summary>
    public static async Task<int> GuardAsync(string program, TextWriter error, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is AgentException or IOException)
        {
            await error.WriteLineAsync($"{program}: {e.Message}");
            return 1;
        }
        catch (TaskCanceledException)
        {
            await error.WriteLineAsync($"{program}: the server did not answer in time.");
            return 1;
        }
    }

    /// <summary>True when a process with this id is running (the <c>status</c> commands ask about their <c>run</c>).</summary>
    public static bool IsProcessAlive(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
