using System.CommandLine;
using System.Text.Json.Nodes;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway env create|list|show|delete</c>.</summary>
internal static class EnvironmentCommands
{
    private static readonly (string, string)[] Columns =
        [("ID", "id"), ("NAME", "name"), ("GEOGRAPHY", "geography"), ("TYPE", "type"), ("STATE", "state"), ("PRIMARY", "scaleGroups.primary"), ("SECONDARY", "scaleGroups.secondary")];

    public static Command Create(CliContext context)
    {
        var env = new Command("env", "Environments: each placed in a pair of scale groups, with a database of its own.");

        var name = new Option<string>("--name") { Description = "Unique name in the tenant: lower-case letters, digits, '-'", Required = true };
        var geography = new Option<string>("--geography") { Description = "Geography id, e.g. europe (see 'causeway geo list')", Required = true };
        var type = new Option<string>("--type") { Description = "production, sandbox, trial or developer", Required = true };
        var early = new Option<bool>("--early-release") { Description = "Place it in canary scale groups" };
        var create = new Command("create", "Create an environment.") { name, geography, type, early };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var node = await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Post, "/api/v1/environments",
                new { name = parse.GetValue(name), geography = parse.GetValue(geography), type = parse.GetValue(type), earlyRelease = parse.GetValue(early) }, ct);
            await context.PrintAsync(parse, node, Columns);
        }));

        var list = new Command("list", "List the environments you can see.");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/environments", null, ct), Columns)));

        var idOrName = new Argument<string>("environment") { Description = "Environment id or name" };
        var show = new Command("show", "Show one environment.") { idOrName };
        show.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await ResolveIdAsync(profile, parse.GetValue(idOrName)!, ct);
            var node = await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{id}", null, ct);
            await context.PrintAsync(parse, node, [.. Columns, ("URL", "dataApiUrl")]);
        }));

        var delete = new Command("delete", "Delete an environment and its database.") { idOrName };
        delete.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await ResolveIdAsync(profile, parse.GetValue(idOrName)!, ct);
            await CliContext.SendAsync(profile, HttpMethod.Delete, $"/api/v1/environments/{id}", null, ct);
            if (parse.GetValue(CliApp.Json))
            {
                await context.Output.WriteLineAsync($"{{\"id\": \"{id}\", \"deleted\": true}}");
            }
            else
            {
                await context.Output.WriteLineAsync($"Deleted environment {id}.");
            }
        }));

        env.Subcommands.Add(create);
        env.Subcommands.Add(list);
        env.Subcommands.Add(show);
        env.Subcommands.Add(delete);
        return env;
    }

    /// <summary>An environment id from an id or a name.</summary>
    public static async Task<Guid> ResolveIdAsync(Profile profile, string idOrName, CancellationToken ct)
    {
        if (Guid.TryParse(idOrName, out var id))
        {
            return id;
        }

        var all = await CliContext.SendAsync(profile, HttpMethod.Get, "/api/v1/environments", null, ct) as JsonArray ?? [];
        var match = all.FirstOrDefault(e => e?["name"]?.GetValue<string>() == idOrName)
            ?? throw new CliException($"no environment named '{idOrName}' is visible to you.");
        return Guid.Parse(match["id"]!.GetValue<string>());
    }
}
