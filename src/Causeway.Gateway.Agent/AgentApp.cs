using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Gateway.Agent;

/// <summary>The <c>causeway-gateway</c> command tree. Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.</summary>
public static class AgentApp
{
    private const string Program = "causeway-gateway";

    /// <summary>The environment variable <c>run</c> reads the recovery key from when no option gives it.</summary>
    public const string RecoveryKeyVariable = "CAUSEWAY_GATEWAY_RECOVERY_KEY";

    /// <summary>The environment variable <c>run</c> reads the RabbitMQ broker URI from when no file gives it.</summary>
    public const string BrokerUriVariable = "CAUSEWAY_GATEWAY_RABBITMQ_URI";

    /// <summary>Parses and runs one command line.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "The agent's data folder (default ~/.causeway-gateway)", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Print JSON", Recursive = true };
        var root = new RootCommand("causeway-gateway: the Causeway on-premises data gateway agent.");
        root.Options.Add(dataDir);
        root.Options.Add(json);

        var server = new Option<string>("--server") { Description = "The Causeway server, e.g. https://causeway.example.com:5443", Required = true };
        var token = new Option<string>("--token") { Description = "A tenant administrator's bearer token", Required = true };
        var name = new Option<string>("--name") { Description = "Name of the new cluster (and of this member)", Required = true };
        var region = new Option<string>("--region") { Description = "The geography the gateway serves, e.g. europe", Required = true };
        var recovery = new Option<string>("--recovery-key") { Description = "The recovery key (at least 8 characters); needed to add members, keep it safe", Required = true };
        var cluster = new Option<Guid?>("--cluster") { Description = "Join this existing cluster (same recovery key) instead of creating one" };
        var trust = new Option<string?>("--trust-certificate") { Description = "PEM certificate to trust besides the system store (e.g. the server's certificate.pem)" };
        var iterations = new Option<int>("--kdf-iterations") { Description = "PBKDF2 iterations for the key file", DefaultValueFactory = _ => KeyFile.DefaultIterations, Hidden = true };
        var register = new Command("register", "Create a gateway cluster (or join one with --cluster) and store its key in the data folder.")
        {
            server, token, name, region, recovery, cluster, trust, iterations,
        };
        register.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = await Registrar.RegisterAsync(parse.GetValue(server)!, parse.GetValue(token)!, parse.GetValue(name)!, parse.GetValue(region)!,
                parse.GetValue(recovery)!, parse.GetValue(cluster), files, parse.GetValue(trust), parse.GetValue(iterations), ct);
            await output.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { clusterId = registration.ClusterId, memberId = registration.MemberId }, AgentFiles.Json)
                : $"Registered member '{registration.MemberName}' ({registration.MemberId}) of gateway cluster '{registration.ClusterName}' ({registration.ClusterId}) in {registration.Region}. Start it with 'causeway-gateway run'.");
        }));

        var runRecovery = new Option<string?>("--recovery-key") { Description = $"The recovery key (or ${RecoveryKeyVariable}, or --recovery-key-file)" };
        var runRecoveryFile = new Option<string?>("--recovery-key-file") { Description = "A file holding the recovery key (e.g. a systemd credential)" };
        var brokerFile = new Option<string?>("--rabbitmq-uri-file") { Description = $"A file holding the cluster's RabbitMQ URI amqp[s]://user:password@host:port/vhost (or ${BrokerUriVariable}); used when the server's bus is RabbitMQ" };
        var run = new Command("run", "Connect to the server and serve queries until stopped.") { runRecovery, runRecoveryFile, brokerFile };
        run.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = files.ReadRegistration();
            var recoveryKey = parse.GetValue(runRecovery)
                ?? (parse.GetValue(runRecoveryFile) is { } file ? (await File.ReadAllTextAsync(file, ct)).Trim() : null)
                ?? Environment.GetEnvironmentVariable(RecoveryKeyVariable)
                ?? throw new AgentException($"run needs the recovery key to open the cluster's key: --recovery-key, --recovery-key-file or ${RecoveryKeyVariable}.");
            var brokerText = (parse.GetValue(brokerFile) is { } uriFile ? (await File.ReadAllTextAsync(uriFile, ct)).Trim() : null)
                ?? Environment.GetEnvironmentVariable(BrokerUriVariable);
            Uri? broker = null;
            if (!string.IsNullOrWhiteSpace(brokerText) && (!Uri.TryCreate(brokerText, UriKind.Absolute, out broker) || broker.Scheme is not ("amqp" or "amqps")))
            {
                // Never echo the text: it holds the broker password.
                throw new AgentException("The RabbitMQ URI (--rabbitmq-uri-file or $" + BrokerUriVariable + ") must be amqp://user:password@host:port/vhost or amqps://...");
            }

            using var key = OpenKey(files, recoveryKey);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, cancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            return await new AgentRunner(files, registration, key, output, broker).RunAsync(stop.Token);
        }));

        var status = new Command("status", "Show the registration and what the running agent is connected to.");
        status.SetAction((parse, ct) => AgentCommandLine.GuardAsync(Program, error, async () =>
        {
            var files = new AgentFiles(parse.GetValue(dataDir) ?? AgentFiles.DefaultDirectory);
            var registration = files.ReadRegistration();
            var state = files.ReadStatus();
            var alive = state is not null && AgentCommandLine.IsProcessAlive(state.ProcessId);
            var connected = alive && state!.Connected && state.LastHeartbeat is { } beat && DateTimeOffset.UtcNow - beat <= TimeSpan.FromSeconds(Math.Max(3 * state.HeartbeatSeconds, 5));
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    registration.Server,
                    registration.ClusterId,
                    registration.ClusterName,
                    registration.MemberId,
                    registration.MemberName,
                    registration.Region,
                    connected,
                    running = alive,
                    since = state?.Since,
                    lastHeartbeat = state?.LastHeartbeat,
                    lastError = state?.LastError,
                }, AgentFiles.Json));
            }
            else
            {
                await output.WriteLineAsync($"Member '{registration.MemberName}' ({registration.MemberId}) of gateway cluster '{registration.ClusterName}' ({registration.ClusterId}), region {registration.Region}");
                await output.WriteLineAsync(connected
                    ? $"Connected to {registration.Server} since {state!.Since:u}; last heartbeat {state.LastHeartbeat:u}."
                    : alive ? $"Running, not connected to {registration.Server}: {state!.LastError ?? "connecting"}." : $"Not running (server {registration.Server}).");
            }
        }));

        root.Subcommands.Add(register);
        root.Subcommands.Add(run);
        root.Subcommands.Add(status);
        return await AgentCommandLine.InvokeAsync(Program, root, args, output, error, cancellationToken);
    }

    private static RSA OpenKey(AgentFiles files, string recoveryKey)
    {
        try
        {
            return KeyFile.Unprotect(files.ReadKeyFile(), recoveryKey);
        }
        catch (GatewayCryptoException e)
        {
            throw new AgentException($"The key file in {files.Directory} cannot be opened: {e.Message}", e);
        }
    }
}
