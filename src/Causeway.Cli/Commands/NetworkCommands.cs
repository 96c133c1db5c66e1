using System.CommandLine;
using System.Net.Http.Headers;
using Causeway.Network;
using Causeway.Security;

namespace Causeway.Cli.Commands;

/// <summary>
/// <c>causeway network plan</c>: offline with <c>--inventory FILE</c> (no server needed), otherwise against the live
/// inventory of the server the profile points at.
/// </summary>
internal static class NetworkCommands
{
    public static Command Create(CliContext context)
    {
        var network = new Command("network", "ExpressRoute planning: which traffic rides the circuit, what is misconfigured, and the fix.");
        var file = new Option<FileInfo>("--network") { Description = "Network file (YAML or JSON): sites, circuits, route filters", Required = true };
        var inventory = new Option<FileInfo?>("--inventory") { Description = "Inventory file for an offline plan; without it the server's live inventory is used" };
        var format = new Option<string>("--format") { Description = "table, json, markdown or svg", DefaultValueFactory = _ => "table" };
        var failDatacenter = new Option<string?>("--fail-datacenter") { Description = "What-if: this datacenter is down" };
        var failCircuit = new Option<string?>("--fail-circuit") { Description = "What-if: this circuit is down" };
        var plan = new Command("plan", "Plan flows, findings and route-filter artifacts.") { file, inventory, format, failDatacenter, failCircuit };
        plan.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var networkFile = parse.GetValue(file)!;
            PlanFormat planFormat;
            try
            {
                planFormat = PlanRenderer.ParseFormat(parse.GetValue(CliApp.Json) ? "json" : parse.GetValue(format)!);
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message);
            }

            if (!networkFile.Exists)
            {
                throw new CliException($"the network file '{networkFile.FullName}' does not exist.");
            }

            if (parse.GetValue(inventory) is { } inventoryFile)
            {
                if (!inventoryFile.Exists)
                {
                    throw new CliException($"the inventory file '{inventoryFile.FullName}' does not exist.");
                }

                try
                {
                    var result = Planner.Plan(NetworkDocument.Load(networkFile.FullName), Inventory.Load(inventoryFile.FullName), WhatIfOf(parse));
                    PlanRenderer.Write(result, planFormat, context.Output);
                }
                catch (NetworkFileException e)
                {
                    throw new CliException(e.Message);
                }

                return;
            }

            var profile = CliContext.Resolve(parse);
            var query = $"?format={planFormat.ToString().ToLowerInvariant()}"
                + (parse.GetValue(failDatacenter) is { } dc ? $"&failDatacenter={Uri.EscapeDataString(dc)}" : "")
                + (parse.GetValue(failCircuit) is { } circuit ? $"&failCircuit={Uri.EscapeDataString(circuit)}" : "");
            var content = new StringContent(await File.ReadAllTextAsync(networkFile.FullName, ct));
            content.Headers.ContentType = new MediaTypeHeaderValue(networkFile.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/yaml");
            await context.Output.WriteAsync(await CliContext.SendRawAsync(profile, HttpMethod.Post, $"/api/v1/network/plan{query}", content, ct));
        }));
        network.Subcommands.Add(plan);
        return network;

        WhatIf? WhatIfOf(ParseResult parse)
        {
            var whatIf = new WhatIf(parse.GetValue(failDatacenter) is { } d ? [d] : [], parse.GetValue(failCircuit) is { } c ? [c] : []);
            return whatIf.IsEmpty ? null : whatIf;
        }
    }
}
