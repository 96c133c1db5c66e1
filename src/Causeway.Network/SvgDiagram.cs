using System.Globalization;
using System.Security;

namespace Causeway.Network;

/// <summary>
/// Draws sites, circuits, the internet and datacenters in columns, with flows as lines coloured by path. Large plans are
/// cut to the first sites so the diagram stays readable; the legend says how many were left out.
/// </summary>
internal static class SvgDiagram
{
    private const int MaxSites = 30;
    private const int RowHeight = 44;
    private const int NodeWidth = 190;
    private const int NodeHeight = 30;

    private static readonly Dictionary<FlowPath, string> Colours = new()
    {
        [FlowPath.ExpressRoute] = "#1a7f37",
        [FlowPath.Internet] = "#d4a72c",
        [FlowPath.Backbone] = "#0969da",
        [FlowPath.Unreachable] = "#cf222e",
    };

    public static void Write(PlanResult plan, TextWriter writer)
    {
        var siteFlows = plan.Flows.Where(f => f.Site is not null).ToArray();
        var allSites = siteFlows.Select(f => f.Site!).Distinct().ToArray();
        var sites = allSites.Take(MaxSites).ToArray();
        var shown = sites.ToHashSet();
        var flows = siteFlows.Where(f => shown.Contains(f.Site!)).ToArray();
        var circuits = flows.Select(f => f.Circuit).OfType<string>().Distinct().ToArray();
        var destinations = flows.Select(Destination).Distinct().OrderBy(d => d.StartsWith('~')).ThenBy(d => d, StringComparer.Ordinal).ToArray();
        var platform = plan.Flows.Where(f => f.Site is null).Select(f => f.To.StartsWith("connector", StringComparison.Ordinal)
            ? f.Path == FlowPath.Internet ? "third-party connector backends" : "Microsoft connector backends" : f.To).Distinct().ToArray();

        var x = new[] { 20, 290, 560, 830 };
        var nodes = new Dictionary<string, (int X, int Y)>();
        void Column(IEnumerable<string> names, int column, string prefix)
        {
            var y = 70;
            foreach (var name in names)
            {
                nodes[prefix + name] = (x[column], y);
                y += RowHeight;
            }
        }

        Column(sites, 0, "site:");
        Column(circuits.Append("Internet"), 1, "mid:");
        Column(destinations.Select(d => d.TrimStart('~')), 2, "dest:");
        Column(platform, 3, "platform:");
        var rows = new[] { sites.Length, circuits.Length + 1, destinations.Length, platform.Length }.Max();
        var height = 70 + (rows * RowHeight) + 60;

        var edges = new HashSet<(string From, string To, FlowPath Path)>();
        foreach (var flow in flows)
        {
            var destination = "dest:" + Destination(flow).TrimStart('~');
            var site = "site:" + flow.Site;
            switch (flow.Path)
            {
                case FlowPath.ExpressRoute:
                    edges.Add((site, "mid:" + flow.Circuit, flow.Path));
                    edges.Add(("mid:" + flow.Circuit, destination, flow.Path));
                    break;
                case FlowPath.Internet:
                    edges.Add((site, "mid:Internet", flow.Path));
                    edges.Add(("mid:Internet", destination, flow.Path));
                    break;
                default:
                    edges.Add((site, destination, flow.Path));
                    break;
            }
        }

        foreach (var flow in plan.Flows.Where(f => f.Site is null && f.Datacenter is not null))
        {
            var target = "platform:" + (flow.To.StartsWith("connector", StringComparison.Ordinal)
                ? flow.Path == FlowPath.Internet ? "third-party connector backends" : "Microsoft connector backends" : flow.To);
            if (nodes.ContainsKey("dest:" + flow.Datacenter))
            {
                edges.Add(("dest:" + flow.Datacenter, target, flow.Path));
            }
        }

        var inv = CultureInfo.InvariantCulture;
        writer.WriteLine(string.Create(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{x[3] + NodeWidth + 20}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        writer.WriteLine("  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
        string[] titles = ["Sites", "Circuits / internet", "Datacenters and services", "Inside Microsoft's cloud"];
        for (var i = 0; i < titles.Length; i++)
        {
            writer.WriteLine(string.Create(inv, $"  <text x=\"{x[i]}\" y=\"40\" font-weight=\"bold\">{titles[i]}</text>"));
        }

        foreach (var (from, to, path) in edges.OrderBy(e => e.Path))
        {
            if (!nodes.TryGetValue(from, out var a) || !nodes.TryGetValue(to, out var b))
            {
                continue;
            }

            var dash = path == FlowPath.Unreachable ? " stroke-dasharray=\"6 4\"" : "";
            writer.WriteLine(string.Create(inv,
                $"  <line x1=\"{a.X + NodeWidth}\" y1=\"{a.Y + (NodeHeight / 2)}\" x2=\"{b.X}\" y2=\"{b.Y + (NodeHeight / 2)}\" stroke=\"{Colours[path]}\" stroke-width=\"2\" opacity=\"0.8\"{dash}><title>{path}</title></line>"));
        }

        foreach (var (key, (nx, ny)) in nodes)
        {
            var label = key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..];
            var fill = key.StartsWith("site:", StringComparison.Ordinal) ? "#f6f8fa" : key.StartsWith("mid:", StringComparison.Ordinal) ? "#fff8c5" : key.StartsWith("dest:", StringComparison.Ordinal) ? "#ddf4ff" : "#eef1f4";
            writer.WriteLine(string.Create(inv, $"  <rect x=\"{nx}\" y=\"{ny}\" width=\"{NodeWidth}\" height=\"{NodeHeight}\" rx=\"5\" fill=\"{fill}\" stroke=\"#57606a\"/>"));
            writer.WriteLine(string.Create(inv, $"  <text x=\"{nx + 8}\" y=\"{ny + 19}\">{SecurityElement.Escape(Shorten(label))}</text>"));
        }

        var legendY = height - 30;
        var lx = 20;
        foreach (var (path, colour) in Colours)
        {
            writer.WriteLine(string.Create(inv, $"  <line x1=\"{lx}\" y1=\"{legendY}\" x2=\"{lx + 30}\" y2=\"{legendY}\" stroke=\"{colour}\" stroke-width=\"3\"{(path == FlowPath.Unreachable ? " stroke-dasharray=\"6 4\"" : "")}/>"));
            writer.WriteLine(string.Create(inv, $"  <text x=\"{lx + 36}\" y=\"{legendY + 4}\">{path.ToString().ToLowerInvariant()}</text>"));
            lx += 140;
        }

        if (allSites.Length > sites.Length)
        {
            writer.WriteLine(string.Create(inv, $"  <text x=\"{lx}\" y=\"{legendY + 4}\">(first {sites.Length} of {allSites.Length} sites shown)</text>"));
        }

        writer.WriteLine("</svg>");
    }

    /// <summary>Datacenters first, then services; '~' sorts services after datacenters.</summary>
    private static string Destination(Flow flow) => flow.Kind switch
    {
        FlowKind.SignIn => "~Microsoft Entra ID",
        FlowKind.StaticContent => "~static content (CDN)",
        _ => flow.Datacenter ?? flow.To,
    };

    private static string Shorten(string text) => text.Length <= 28 ? text : text[..27] + "…";
}
