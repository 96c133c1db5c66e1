using System.Diagnostics;
using Xunit.Abstractions;

namespace Causeway.Connectors.Tests;

public sealed class CorpusImportTests(ITestOutputHelper output)
{
    // Packages of the public corpus that are not valid, with the fault the importer must report. Everything else
    // must import; a package leaving or joining this list is a regression (or a corpus change to review).
    private static readonly Dictionary<string, string> KnownInvalid = new(StringComparer.Ordinal)
    {
        // The folder holds only apiProperties.json.
        ["certified-connectors/MicrosoftGraphSecurity"] = "apiDefinition.swagger.json: $: file is missing from the package",
        // A '},' closes the root object early; the rest of the file is extra data.
        ["certified-connectors/CognitiveServicesTextAnalytics"] = "apiDefinition.swagger.json: $: not valid JSON at line 276, position 6: ',' is invalid after a single JSON value. Expected end of data.",
        // Missing comma between two properties.
        ["certified-connectors/IN-D Invoice Data Capture"] = "apiDefinition.swagger.json: $: not valid JSON at line 51, position 13: '\"' is invalid after a value. Expected either ',', '}', or ']'.",
        ["certified-connectors/SigningHub"] = "apiProperties.json: $: not valid JSON at line 24, position 13: '\"' is invalid after a value. Expected either ',', '}', or ']'.",
        // Unclosed objects: the file ends inside the root object.
        ["certified-connectors/Shopranos"] = "apiProperties.json: $: not valid JSON at line 22, position 4: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed.",
        ["certified-connectors/gofileroom"] = "apiProperties.json: $: not valid JSON at line 91, position 1: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed.",
    };

    [Fact]
    public void ReadFolder_EveryCorpusPackage_ImportsUnlessKnownInvalid()
    {
        var corpus = TestPackages.CorpusFolder();
        if (corpus is null)
        {
            output.WriteLine("corpus not found (set CAUSEWAY_CONNECTOR_CORPUS); only the carried packages are tested");
            return;
        }

        var watch = Stopwatch.StartNew();
        var folders = Directory.GetDirectories(corpus)
            .SelectMany(Directory.GetDirectories)
            .Where(d => Directory.EnumerateFiles(d).Any())
            .Order(StringComparer.Ordinal)
            .ToList();
        var imported = new List<ConnectorDefinition>();
        var rejected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var key = Path.GetRelativePath(corpus, folder).Replace('\\', '/');
            try
            {
                imported.Add(ConnectorPackageReader.ReadFolder(folder));
            }
            catch (ConnectorImportException e)
            {
                rejected[key] = e.Message;
            }
        }

        watch.Stop();
        var withPolicies = imported.Count(d => d.Policies.Count > 0);
        var withScript = imported.Count(d => d.HasScript);
        var firstParty = imported.Count(d => d.Classification.Kind == ConnectorNetworkKind.FirstParty);
        output.WriteLine($"packages: {folders.Count}, imported: {imported.Count}, rejected: {rejected.Count} in {watch.ElapsedMilliseconds} ms");
        output.WriteLine($"operations: {imported.Sum(d => d.Operations.Count)}, with policies: {withPolicies}, policy instances: {imported.Sum(d => d.Policies.Count)}, with script.csx: {withScript}, first-party: {firstParty}, warnings: {imported.Sum(d => d.Warnings.Count)}");
        foreach (var (k, v) in rejected)
        {
            output.WriteLine($"rejected {k}: {v}");
        }

        var unexpected = rejected.Where(r => !KnownInvalid.TryGetValue(r.Key, out var why) || why != r.Value).Select(r => $"{r.Key}: {r.Value}").ToList();
        var nowValid = KnownInvalid.Keys.Where(k => !rejected.ContainsKey(k) && folders.Any(f => f.EndsWith(k, StringComparison.Ordinal))).ToList();
        Assert.True(unexpected.Count == 0, "unexpected rejections:\n" + string.Join("\n", unexpected));
        Assert.True(nowValid.Count == 0, "known-invalid packages that now import:\n" + string.Join("\n", nowValid));
    }
}
