using Causeway.Testing;

namespace Causeway.Desktop.Tests;

/// <summary>The <c>causeway-desktop</c> program as its own process.</summary>
public static class AgentProcess
{
    public static string Program => ProgramProcess.Locate("Causeway.Desktop.Agent", "causeway-desktop.dll");

    public static ProgramProcess Start(params string[] args) => ProgramProcess.Start(Program, args);

    /// <summary>Runs one command to its end; returns exit code and everything it printed.</summary>
    public static Task<(int Code, string Output)> RunAsync(params string[] args) => ProgramProcess.RunAsync(Program, args);
}
