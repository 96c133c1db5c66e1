using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway machine list</c>: the desktop-flow machines of an environment.</summary>
internal static class MachineCommands
{
    private static readonly (string, string)[] Columns = [("ID", "id"), ("NAME", "name"), ("STATUS", "status"), ("GROUP", "group"), ("VERSION", "version")];

    public static Command Create(CliContext context)
    {
        var machine = new Command("machine", "Machines that run desktop flows (registered with 'causeway-desktop register').");
        var environment = new Option<string>("--environment", "-e") { Description = "Environment id or name", Required = true };
        var list = new Command("list", "List the machines of an environment with their status (online, busy, offline, maintenance).") { environment };
        list.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            await context.PrintAsync(parse, await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{id}/machines", null, ct), Columns);
        }));
        machine.Subcommands.Add(list);
        return machine;
    }
}

/// <summary><c>causeway desktopflow create|run|runs</c>.</summary>
internal static class DesktopFlowCommands
{
    private static readonly (string, string)[] FlowColumns = [("ID", "id"), ("NAME", "name"), ("CREATED", "createdAt")];

    private static readonly (string, string)[] RunColumns =
        [("ID", "id"), ("STATUS", "status"), ("MACHINE", "machine.name"), ("QUEUED", "queuedAt"), ("ENDED", "endedAt"), ("REASON", "reason")];

    public static Command Create(CliContext context)
    {
        var desktopflow = new Command("desktopflow", "Desktop flows: definitions stored in an environment and run on registered machines.");
        var environment = new Option<string>("--environment", "-e") { Description = "Environment id or name", Required = true };

        var file = new Option<string>("--file", "-f") { Description = "The definition (JSON, schema version 1)", Required = true };
        var create = new Command("create", "Store a desktop flow definition (checked before it is stored).") { environment, file };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new CliException($"{path} does not exist.");
            }

            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var content = new StringContent(await File.ReadAllTextAsync(path, ct), Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var text = await CliContext.SendRawAsync(profile, HttpMethod.Post, $"/api/v1/environments/{id}/desktopflows", content, ct);
            await context.PrintAsync(parse, JsonNode.Parse(text), FlowColumns);
        }));

        var flowArgument = new Argument<string>("flow") { Description = "Desktop flow id or name" };
        var machine = new Option<string?>("--machine") { Description = "Run on this machine (id or name)" };
        var group = new Option<string?>("--group") { Description = "Run on any idle machine of this machine group (id or name)" };
        var input = new Option<string[]>("--input", "-i") { Description = "An input as name=value (repeatable); lists, objects, numbers and booleans as JSON" };
        var user = new Option<string?>("--connection-user") { Description = "User name of the run's connection (sealed for the machine's key)" };
        var passwordFile = new Option<string?>("--connection-password-file") { Description = "File holding the connection's password or secret (never given on the command line)" };
        var timeLimit = new Option<int?>("--time-limit") { Description = "The run's time limit in seconds (at most 86400)" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to end; exit code 1 unless it succeeded" };
        var run = new Command("run", "Queue a run of a desktop flow on a machine or a machine group.") { environment, flowArgument, machine, group, input, user, passwordFile, timeLimit, wait };
        run.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            if ((parse.GetValue(machine) is null) == (parse.GetValue(group) is null))
            {
                throw new CliException("give either --machine or --group.");
            }

            if ((parse.GetValue(user) is null) != (parse.GetValue(passwordFile) is null))
            {
                throw new CliException("--connection-user and --connection-password-file go together.");
            }

            var env = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var flow = await ResolveFlowAsync(profile, env, parse.GetValue(flowArgument)!, ct);
            var inputs = ParseInputs(flow, parse.GetValue(input) ?? []);
            object? connection = null;
            if (parse.GetValue(passwordFile) is { } secretFile)
            {
                if (!File.Exists(secretFile))
                {
                    throw new CliException($"{secretFile} does not exist.");
                }

                connection = new { userName = parse.GetValue(user), password = (await File.ReadAllTextAsync(secretFile, ct)).TrimEnd('\r', '\n') };
            }

            var runsPath = $"/api/v1/environments/{env}/desktopflows/{flow["id"]!.GetValue<string>()}/runs";
            var started = await CliContext.SendAsync(profile, HttpMethod.Post, runsPath, new
            {
                inputs,
                machine = parse.GetValue(machine),
                group = parse.GetValue(group),
                connection,
                timeLimitSeconds = parse.GetValue(timeLimit),
            }, ct);
            if (!parse.GetValue(wait))
            {
                await context.PrintAsync(parse, started, RunColumns);
                return;
            }

            var runPath = $"{runsPath}/{started!["id"]!.GetValue<string>()}";
            var current = started;
            while (current?["status"]?.GetValue<string>() is "queued" or "running")
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
                current = await CliContext.SendAsync(profile, HttpMethod.Get, runPath, null, ct);
            }

            await context.PrintAsync(parse, current, [.. RunColumns, ("OUTPUTS", "outputs")]);
            if (current?["status"]?.GetValue<string>() != "succeeded")
            {
                throw new CliException($"the run ended {current?["status"]?.GetValue<string>()}: {current?["reason"]?.GetValue<string>() ?? "no reason given"}");
            }
        }));

        var runs = new Command("runs", "List the runs of a desktop flow, newest first.") { environment, flowArgument };
        runs.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var env = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var flow = await ResolveFlowAsync(profile, env, parse.GetValue(flowArgument)!, ct);
            await context.PrintAsync(parse, await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{env}/desktopflows/{flow["id"]!.GetValue<string>()}/runs", null, ct),
                RunColumns);
        }));

        desktopflow.Subcommands.Add(create);
        desktopflow.Subcommands.Add(run);
        desktopflow.Subcommands.Add(runs);
        return desktopflow;
    }

    private static async Task<JsonNode> ResolveFlowAsync(Profile profile, Guid environment, string idOrName, CancellationToken ct)
    {
        var all = await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{environment}/desktopflows", null, ct) as JsonArray ?? [];
        return all.FirstOrDefault(f => f?["id"]?.GetValue<string>() == idOrName || f?["name"]?.GetValue<string>() == idOrName)
            ?? throw new CliException($"the environment has no desktop flow '{idOrName}'.");
    }

    /// <summary>name=value pairs: text for string inputs, JSON for the others (so "007" stays text where the flow wants text).</summary>
    private static JsonObject ParseInputs(JsonNode flow, IEnumerable<string> pairs)
    {
        var types = (flow["inputs"] as JsonArray ?? []).ToDictionary(i => i!["name"]!.GetValue<string>(), i => i!["type"]!.GetValue<string>(), StringComparer.Ordinal);
        var inputs = new JsonObject();
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"--input '{pair}' is not name=value.");
            }

            var (name, value) = (pair[..equals], pair[(equals + 1)..]);
            if (!types.TryGetValue(name, out var type))
            {
                throw new CliException($"'{name}' is not an input of the flow (inputs: {(types.Count == 0 ? "none" : string.Join(", ", types.Keys))}).");
            }

            try
            {
                inputs[name] = type is "string" or "secret" ? JsonValue.Create(value) : JsonNode.Parse(value);
            }
            catch (JsonException)
            {
                throw new CliException($"--input {name}: '{value}' is not a {type} (give it as JSON).");
            }
        }

        return inputs;
    }
}
