using System.Text.Json;
using System.Xml.Linq;

namespace Causeway.Network.Tests;

public sealed class RendererTests
{
    private static PlanResult Example(WhatIf? whatIf = null) =>
        Planner.Plan(NetworkDocument.Load(TestNetworks.ExamplePath("network.yaml")), Inventory.Load(TestNetworks.ExamplePath("inventory.yaml")), whatIf);

    [Fact]
    public void Json_HasTheDocumentedShape()
    {
        using var document = JsonDocument.Parse(PlanRenderer.ToString(Example(), PlanFormat.Json));
        var root = document.RootElement;

        Assert.Equal(["flows", "findings", "artifacts"], root.EnumerateObject().Select(p => p.Name));
        var flow = root.GetProperty("flows").EnumerateArray().First(f => f.GetProperty("path").GetString() == "expressroute");
        Assert.Equal(["from", "to", "path", "circuit", "community", "reason"], flow.EnumerateObject().Select(p => p.Name).Take(6));
        Assert.Equal("12076:51002", flow.GetProperty("community").GetString());
        var finding = root.GetProperty("findings").EnumerateArray().First();
        Assert.Equal(["code", "severity", "message", "fix", "objects", "communities"], finding.EnumerateObject().Select(p => p.Name));
        Assert.Equal("error", finding.GetProperty("severity").GetString());
        Assert.All(root.GetProperty("flows").EnumerateArray(), f => Assert.Contains(f.GetProperty("path").GetString(), new[] { "expressroute", "internet", "backbone", "unreachable" }));
        Assert.Equal("Microsoft.Network/routeFilters", root.GetProperty("artifacts").GetProperty("arm").GetProperty("resources")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void Json_WithWhatIf_AddsChanges()
    {
        using var document = JsonDocument.Parse(PlanRenderer.ToString(Example(WhatIf.Circuit("er-ams")), PlanFormat.Json));

        Assert.True(document.RootElement.GetProperty("changes").GetArrayLength() > 0);
        Assert.Equal("er-ams", document.RootElement.GetProperty("whatIf").GetProperty("failedCircuits")[0].GetString());
    }

    [Fact]
    public void Svg_IsWellFormedWithNodesAndColouredFlows()
    {
        var svg = XDocument.Parse(PlanRenderer.ToString(Example(), PlanFormat.Svg));
        XNamespace ns = "http://www.w3.org/2000/svg";

        var texts = svg.Descendants(ns + "text").Select(t => t.Value).ToArray();
        Assert.Contains("hq", texts);
        Assert.Contains("er-ams", texts);
        Assert.Contains("westeurope", texts);
        Assert.Contains("Internet", texts);
        var strokes = svg.Descendants(ns + "line").Select(l => (string?)l.Attribute("stroke")).ToHashSet();
        Assert.Contains("#1a7f37", strokes);
        Assert.Contains("#d4a72c", strokes);
    }

    [Fact]
    public void Markdown_HasFindingsFlowsAndArtifacts()
    {
        var markdown = PlanRenderer.ToString(Example(), PlanFormat.Markdown);

        Assert.StartsWith("# ExpressRoute plan", markdown, StringComparison.Ordinal);
        Assert.Contains("`route-filter-missing-community`", markdown, StringComparison.Ordinal);
        Assert.Contains("```bicep", markdown, StringComparison.Ordinal);
        Assert.Contains("| hq | `*.servicebus.windows.net` | 5671-5672 |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_ListsFlowsAndFindings()
    {
        var table = PlanRenderer.ToString(Example(WhatIf.Datacenter("westeurope")), PlanFormat.Table);

        Assert.Contains("FLOWS", table, StringComparison.Ordinal);
        Assert.Contains("error   route-filter-missing-community [12076:51003]", table, StringComparison.Ordinal);
        Assert.Contains("WHAT-IF (datacenter westeurope fails)", table, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("table", PlanFormat.Table)]
    [InlineData("JSON", PlanFormat.Json)]
    [InlineData("markdown", PlanFormat.Markdown)]
    [InlineData("svg", PlanFormat.Svg)]
    public void ParseFormat_KnownName_Parses(string name, PlanFormat expected) => Assert.Equal(expected, PlanRenderer.ParseFormat(name));

    [Fact]
    public void ParseFormat_Unknown_Throws() => Assert.Throws<ArgumentException>(() => PlanRenderer.ParseFormat("html"));
}
