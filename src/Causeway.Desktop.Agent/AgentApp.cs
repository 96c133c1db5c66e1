using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Desktop.Agent;

/// <summary>The <c>causeway-desktop</c> command tree. Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.</summary>
public static class AgentApp
{
    private const string Program = "causeway-desktop";

    /// <summary>Parses and runs one command line.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "The agent's data folder (default ~/.causeway-desktop)", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON", Recursive = true };
        var root = new RootCommand("causeway-desktop: the Causeway desktop flow machine agent.");
        root.Options.Add(dataDir);
        root.Options.Add(json);

        var server = new Option<string>("--server") { Description = "The Causeway server, e.g. https://causeway.example.com:5443", Required = true };
        var token = new Option<string>("--token") { Description = "A bearer token of an Environment Maker of the environment", Required = true };
        var environment = new Option<string>("--environment") { Description = "The environment (id or name) this machine serves; one per machine", Required = true };
        var name = new Option<string>("--name") { Description = "The machine's name in the environment", Required = true };
        var group = new Option<string?>("--group") { Description = "Join this machine group (id or name); needs --group-password" };
        var groupPassword = new Option<string?>("--group-password") { Description = "The group password (at least 8 characters): protects the group's key" };
        var trust = new Option<string?>("--trust-certificate") { Description = "PEM certificate to trust besides the system store (e.g. the server's certificate.pem)" };
        var roots = new Option<string[]>("--root") { Description = "A folder flows may read and write (repeatable); none means file actions are refused", AllowMultipleArgumentsPerToken = false };
        var iterations = new Option<int>("--kdf-iterations") { Description = "PBKDF2 iterations for the group key escrow", DefaultValueFactory = _ => KeyFile.DefaultIterations, Hidden = true };
        var register = new Command("register", "Create this machine's key pair and register it with an environment.")
        {
            server, token, environment, name, group, groupPassword, trust, roots, iterations,
        };
        register.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = await Registrar.RegisterAsync(parse.GetValue(server)!, parse.GetValue(token)!, parse.GetValue(environment)!, parse.GetValue(name)!,
                parse.GetValue(group), parse.GetValue(groupPassword), files, parse.GetValue(trust), parse.GetValue(roots) ?? [], parse.GetValue(iterations), ct);
            await output.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { machineId = registration.MachineId, environmentId = registration.EnvironmentId, groupId = registration.GroupId }, AgentFiles.Json)
                : $"Registered machine '{registration.MachineName}' ({registration.MachineId}) with environment '{registration.EnvironmentName}'" +
                  (registration.GroupName is { } g ? $" in machine group '{g}'" : "") + ". Start it with 'causeway-desktop run'.");
        }));

        var runRoots = new Option<string[]>("--root") { Description = "Allow flows this folder too (repeatable), besides the roots given at registration" };
        var run = new Command("run", "Listen on the machine's hybrid connection and run the flows the server sends, until stopped.") { runRoots };
        run.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = files.ReadRegistration();
            var allRoots = Registrar.CheckRoots([.. registration.Roots, .. parse.GetValue(runRoots) ?? []]).Distinct(StringComparer.Ordinal).ToList();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, cancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            return await new AgentRunner(files, registration, allRoots, output).RunAsync(stop.Token);
        }));

        var status = new Command("status", "Show the registration and what the running agent is connected to.");
        status.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = files.ReadRegistration();
            var state = files.ReadStatus();
            var alive = state is not null && AgentCommandLine.IsProcessAlive(state.ProcessId) && DateTimeOffset.UtcNow - state.UpdatedAt <= TimeSpan.FromSeconds(10);
            var connected = alive && state!.Connected;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    registration.Server,
                    registration.EnvironmentId,
                    registration.EnvironmentName,
                    registration.MachineId,
                    registration.MachineName,
                    registration.GroupId,
                    registration.GroupName,
                    relay = registration.RelayEndpoint,
                    hybridConnection = registration.HybridConnection,
                    registration.Roots,
                    running = alive,
                    connected,
                    busy = alive && state!.CurrentRun is not null,
                    currentRun = alive ? state!.CurrentRun : null,
                    version = alive ? state!.Version : Registrar.Version,
                    since = state?.Since,
                    reconnects = state?.Reconnects,
                    lastError = state?.LastError,
                }, AgentFiles.Json));
            }
            else
            {
                await output.WriteLineAsync($"Machine '{registration.MachineName}' ({registration.MachineId}) of environment '{registration.EnvironmentName}'" +
                    (registration.GroupName is { } g ? $", machine group '{g}'" : ""));
                await output.WriteLineAsync(connected
                    ? $"Online on {registration.RelayEndpoint}{registration.HybridConnection} since {state!.Since:u}" + (state.CurrentRun is { } r ? $"; busy with run {r}." : "; idle.")
                    : alive ? $"Running, not connected to {registration.RelayEndpoint}: {state!.LastError ?? "connecting"}." : $"Not running (relay {registration.RelayEndpoint}).");
            }
        }));

        root.Subcommands.Add(register);
        root.Subcommands.Add(run);
        root.Subcommands.Add(status);
        return await AgentCommandLine.InvokeAsync(Program, root, args, output, error, cancellationToken);
    }
}
