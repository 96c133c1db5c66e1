using System.CommandLine;
using System.Text.Json.Nodes;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway geo list</c>.</summary>
internal static class GeographyCommands
{
    public static Command Create(CliContext context)
    {
        var geo = new Command("geo", "Geographies the platform serves, with their datacenter pairs and scale groups.");
        var list = new Command("list", "List the geographies with both datacenters and their BGP communities.");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var node = await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/geographies", null, ct);
            if (parse.GetValue(CliApp.Json))
            {
                await context.PrintAsync(parse, node);
                return;
            }

            // One row a geography: the pair side by side, which is what a network architect reads.
            var rows = new JsonArray((node as JsonArray ?? []).Select(g => (JsonNode?)new JsonObject
            {
                ["id"] = g!["id"]?.GetValue<string>(),
                ["name"] = g["name"]?.GetValue<string>(),
                ["a"] = Datacenter(g["datacenters"]?[0]),
                ["b"] = Datacenter(g["datacenters"]?[1]),
                ["host"] = g["environmentHostSuffix"]?.GetValue<string>(),
            }).ToArray());
            await context.PrintAsync(parse, rows, ("ID", "id"), ("NAME", "name"), ("DATACENTER A", "a"), ("DATACENTER B", "b"), ("HOST SUFFIX", "host"));
        }));
        geo.Subcommands.Add(list);
        return geo;
    }

    private static string Datacenter(JsonNode? d) => d is null ? "" : $"{d["id"]} ({d["bgpCommunity"]?.GetValue<string>() ?? "no community"})";
}
