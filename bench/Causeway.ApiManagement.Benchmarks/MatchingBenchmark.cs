using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Causeway.Connectors;

namespace Causeway.ApiManagement.Benchmarks;

/// <summary>
/// <c>--matching FOLDER</c>: operation matching for the connectors with the most operations in a folder of packages (the
/// corpus: <c>../shared/corpus/connectors/certified-connectors</c>). Every operation's path is matched once per pass,
/// by the matcher as it runs (only the templates on the branches of its tree of path segments that the path follows)
/// and by trying every template, the baseline.
/// </summary>
internal static partial class MatchingBenchmark
{
    public static int Run(string folder, int passes)
    {
        var connectors = Directory.GetDirectories(folder).SelectMany(d => Directory.GetFiles(d, "apiProperties.json").Length > 0 ? [d] : Directory.GetDirectories(d))
            .Select(Read).OfType<ConnectorDefinition>().OrderByDescending(c => c.Operations.Count).Take(5).ToList();
        if (connectors.Count == 0)
        {
            Console.Error.WriteLine($"No connector package was read from {folder}.");
            return 2;
        }

        Console.WriteLine("| connector | operations | by the path tree, µs per match | every template (baseline), µs per match | ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var connector in connectors)
        {
            var calls = connector.Operations.Select(o => (o.Method, Path: Parameter().Replace(o.PathTemplate, "x1"))).ToArray();
            // Both ways once unmeasured first, so that the JIT has tiered up the regular expression interpreter for both.
            Time(connector, calls, Math.Max(1, passes / 4), everyTemplate: true);
            Time(connector, calls, Math.Max(1, passes / 4), everyTemplate: false);
            var every = Time(connector, calls, passes, everyTemplate: true);
            var fast = Time(connector, calls, passes, everyTemplate: false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {connector.Name} | {connector.Operations.Count} | {fast:0.00} | {every:0.00} | {every / fast:0.0}x faster |"));
        }

        return 0;
    }

    private static double Time(ConnectorDefinition connector, (string Method, string Path)[] calls, int passes, bool everyTemplate)
    {
        var watch = Stopwatch.StartNew();
        for (var pass = 0; pass < passes; pass++)
        {
            foreach (var (method, path) in calls)
            {
                OperationMatcher.Match(connector, method, path, null, null, true, everyTemplate);
            }
        }

        return watch.Elapsed.TotalMicroseconds / (passes * calls.Length);
    }

    private static ConnectorDefinition? Read(string folder)
    {
        try
        {
            return ConnectorPackageReader.ReadFolder(folder);
        }
        catch (ConnectorImportException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\{\*?[^}]+\}")]
    private static partial Regex Parameter();
}
