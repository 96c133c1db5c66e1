using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Causeway.Network;

/// <summary>Output formats of a plan.</summary>
public enum PlanFormat
{
    /// <summary>Plain-text tables for a terminal.</summary>
    Table,

    /// <summary>JSON: <c>{flows, findings, artifacts}</c> (plus <c>whatIf</c> and <c>changes</c> under a what-if).</summary>
    Json,

    /// <summary>A Markdown report.</summary>
    Markdown,

    /// <summary>An SVG diagram of sites, circuits, datacenters and flows coloured by path.</summary>
    Svg,
}

/// <summary>Writes a <see cref="PlanResult"/> in one of the <see cref="PlanFormat"/>s. Stateless and thread-safe.</summary>
public static class PlanRenderer
{
    /// <summary>The JSON options of the plan output (camelCase, enums as their documented strings, indented).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Parses a format name (table, json, markdown or svg), ignoring case.</summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static PlanFormat ParseFormat(string name) =>
        Enum.TryParse<PlanFormat>(name, ignoreCase: true, out var format) && Enum.IsDefined(format) && !char.IsDigit(name[0])
            ? format
            : throw new ArgumentException($"unknown format '{name}' (expected table, json, markdown or svg)", nameof(name));

    /// <summary>Writes the plan.</summary>
    public static void Write(PlanResult plan, PlanFormat format, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(writer);
        switch (format)
        {
            case PlanFormat.Json:
                writer.Write(JsonSerializer.Serialize(plan, JsonOptions));
                writer.WriteLine();
                break;
            case PlanFormat.Markdown:
                WriteMarkdown(plan, writer);
                break;
            case PlanFormat.Svg:
                SvgDiagram.Write(plan, writer);
                break;
            default:
                WriteTable(plan, writer);
                break;
        }
    }

    /// <summary>Writes the plan to a string.</summary>
    public static string ToString(PlanResult plan, PlanFormat format)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(plan, format, writer);
        return writer.ToString();
    }

    private static string PathName(FlowPath path) => path switch
    {
        FlowPath.ExpressRoute => "expressroute",
        FlowPath.Internet => "internet",
        FlowPath.Backbone => "backbone",
        _ => "unreachable",
    };

    private static string SeverityName(Severity severity) => severity.ToString().ToLowerInvariant();

    private static void WriteTable(PlanResult plan, TextWriter writer)
    {
        writer.WriteLine("FLOWS");
        WriteColumns(writer, ["FROM", "TO", "PATH", "CIRCUIT", "COMMUNITY"],
            plan.Flows.Select(f => new[] { f.From, f.To, PathName(f.Path), f.Circuit ?? "-", f.Community ?? "-" }));
        writer.WriteLine();
        writer.WriteLine("FINDINGS");
        if (plan.Findings.Count == 0)
        {
            writer.WriteLine("(none)");
        }

        foreach (var finding in plan.Findings)
        {
            var communities = finding.Communities.Count > 0 ? $" [{string.Join(", ", finding.Communities)}]" : "";
            writer.WriteLine($"{SeverityName(finding.Severity),-7} {finding.Code}{communities}");
            writer.WriteLine($"        {finding.Message}");
            writer.WriteLine($"        fix: {finding.Fix}");
        }

        if (plan.Changes is { } changes)
        {
            writer.WriteLine();
            writer.WriteLine($"WHAT-IF ({Describe(plan.WhatIf!)}): {changes.Count} flow(s) change");
            WriteColumns(writer, ["FROM", "BEFORE", "AFTER"], changes.Select(c => new[]
            {
                c.From, $"{c.Before} {PathName(c.PathBefore)} {c.CircuitBefore}".TrimEnd(), $"{c.After} {PathName(c.PathAfter)} {c.CircuitAfter}".TrimEnd(),
            }));
        }

        writer.WriteLine();
        writer.WriteLine("ROUTE FILTERS");
        foreach (var filter in plan.Artifacts.RouteFilters)
        {
            writer.WriteLine($"{filter.Circuit}: {filter.RouteFilter}/{filter.Rule} Allow {string.Join(" ", filter.Communities)}");
        }
    }

    private static string Describe(WhatIf whatIf) =>
        string.Join(", ", whatIf.FailedDatacenters.Select(d => $"datacenter {d} fails").Concat(whatIf.FailedCircuits.Select(c => $"circuit {c} fails")));

    private static void WriteColumns(TextWriter writer, string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Min(60, all.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        void Line(string[] cells) => writer.WriteLine(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        Line(headers);
        foreach (var row in all)
        {
            Line(row);
        }
    }

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal);

    private static void WriteMarkdown(PlanResult plan, TextWriter writer)
    {
        writer.WriteLine("# ExpressRoute plan");
        writer.WriteLine();
        var counts = plan.Flows.GroupBy(f => f.Path).OrderBy(g => g.Key).Select(g => $"{g.Count()} {PathName(g.Key)}");
        writer.WriteLine($"{plan.Flows.Count} flows ({string.Join(", ", counts)}); {plan.Findings.Count(f => f.Severity == Severity.Error)} errors, {plan.Findings.Count(f => f.Severity == Severity.Warning)} warnings.");
        writer.WriteLine();
        writer.WriteLine("## Findings");
        writer.WriteLine();
        writer.WriteLine("| severity | code | message | fix | communities |");
        writer.WriteLine("|---|---|---|---|---|");
        foreach (var f in plan.Findings)
        {
            writer.WriteLine($"| {SeverityName(f.Severity)} | `{f.Code}` | {Cell(f.Message)} | {Cell(f.Fix)} | {string.Join(" ", f.Communities.Select(c => $"`{c}`"))} |");
        }

        writer.WriteLine();
        writer.WriteLine("## Flows");
        writer.WriteLine();
        writer.WriteLine("| from | to | path | circuit | community | reason |");
        writer.WriteLine("|---|---|---|---|---|---|");
        foreach (var f in plan.Flows)
        {
            writer.WriteLine($"| {Cell(f.From)} | {Cell(f.To)} | {PathName(f.Path)} | {Cell(f.Circuit)} | {(f.Community is null ? "" : $"`{f.Community}`")} | {Cell(f.Reason)} |");
        }

        if (plan.Changes is { } changes)
        {
            writer.WriteLine();
            writer.WriteLine($"## What-if: {Describe(plan.WhatIf!)}");
            writer.WriteLine();
            writer.WriteLine("| from | before | after | reason |");
            writer.WriteLine("|---|---|---|---|");
            foreach (var c in changes)
            {
                writer.WriteLine($"| {Cell(c.From)} | {Cell(c.Before)} ({PathName(c.PathBefore)} {c.CircuitBefore}) | {Cell(c.After)} ({PathName(c.PathAfter)} {c.CircuitAfter}) | {Cell(c.Reason)} |");
            }
        }

        writer.WriteLine();
        writer.WriteLine("## Route filters (Azure CLI)");
        writer.WriteLine();
        writer.WriteLine("```bash");
        writer.Write(plan.Artifacts.AzCli);
        writer.WriteLine("```");
        writer.WriteLine();
        writer.WriteLine("## Route filters (Bicep)");
        writer.WriteLine();
        writer.WriteLine("```bicep");
        writer.Write(plan.Artifacts.Bicep);
        writer.WriteLine("```");
        writer.WriteLine();
        writer.WriteLine("## Firewall allow-list");
        writer.WriteLine();
        writer.WriteLine("| site | host | port | purpose |");
        writer.WriteLine("|---|---|---|---|");
        foreach (var r in plan.Artifacts.Firewall)
        {
            writer.WriteLine($"| {Cell(r.Site)} | `{r.Host}` | {r.Port} | {Cell(r.Purpose)}{(r.Unverified ? " (UNVERIFIED host)" : "")} |");
        }
    }
}
