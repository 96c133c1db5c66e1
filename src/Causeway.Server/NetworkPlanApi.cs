using System.Text;
using Causeway.Environments;
using Causeway.Network;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Topology;

namespace Causeway.Server;

/// <summary>
/// <c>POST /api/v1/network/plan</c>: the ExpressRoute planner over the caller's live inventory. The body is the network file
/// (YAML, or JSON with <c>Content-Type: application/json</c>); <c>?format=json|markdown|svg|table</c>,
/// <c>?failDatacenter=ID</c> and <c>?failCircuit=NAME</c> as on the command line.
/// </summary>
internal static class NetworkPlanApi
{
    public static RouteGroupBuilder MapNetworkPlanApi(this RouteGroupBuilder api)
    {
        api.MapPost("/network/plan", async (HttpContext context, EnvironmentService environments, string? format, string? failDatacenter, string? failCircuit, CancellationToken ct) =>
        {
            PlanFormat planFormat;
            try
            {
                planFormat = PlanRenderer.ParseFormat(format ?? "json");
            }
            catch (ArgumentException e)
            {
                return Problems.Invalid("format", e.Message);
            }

            string text;
            using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
            {
                text = await reader.ReadToEndAsync(ct);
            }

            NetworkDocument network;
            try
            {
                var documentFormat = context.Request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true ? DocumentFormat.Json : DocumentFormat.Yaml;
                network = NetworkDocument.Parse(text, documentFormat, "network");
            }
            catch (NetworkFileException e)
            {
                return Problems.Invalid("network", e.Message);
            }

            var inventory = await InventoryAsync(context.GetCaller(), environments, ct);
            var whatIf = new WhatIf(failDatacenter is null ? [] : [failDatacenter], failCircuit is null ? [] : [failCircuit]);
            var plan = Planner.Plan(network, inventory, whatIf.IsEmpty ? null : whatIf);
            var contentType = planFormat switch
            {
                PlanFormat.Json => "application/json",
                PlanFormat.Svg => "image/svg+xml",
                PlanFormat.Markdown => "text/markdown; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            return Results.Text(PlanRenderer.ToString(plan, planFormat), contentType);
        }).WithName("PlanNetwork").WithTags("Network").Accepts<string>("application/yaml", "application/json", "text/plain");
        return api;
    }

    /// <summary>The caller's environments as the planner sees them (the components that own gateways, machines and connections add theirs as they land).</summary>
    private static async Task<Inventory> InventoryAsync(Caller caller, EnvironmentService environments, CancellationToken ct)
    {
        var list = await environments.ListAsync(caller.TenantId, caller.IsTenantAdmin ? null : caller.UserId, ct);
        var planned = list.Select(e => new PlatformEnvironment(e.Name, e.Geography, e.Type.ToWire(), Cdn: true) { PrimaryDatacenter = e.PrimaryDatacenter }).ToArray();
        return Inventory.Empty with { Environments = planned };
    }
}
