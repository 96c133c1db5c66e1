using System.Runtime.CompilerServices;

namespace Causeway.Connectors.Tests;

/// <summary>Finds the packages carried with the tests and the shared corpus.</summary>
internal static class TestPackages
{
    private static readonly Dictionary<string, ConnectorDefinition> Cache = [];

    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "packages", name);

    public static ConnectorDefinition Load(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var definition))
            {
                definition = ConnectorPackageReader.ReadFolder(Folder(name));
                Cache[name] = definition;
            }

            return definition;
        }
    }

    /// <summary>
    /// The corpus folder: CAUSEWAY_CONNECTOR_CORPUS, else a <c>shared/corpus/connectors</c> next to an ancestor of the
    /// test assembly or of this source file (the repository's sibling <c>../shared</c>); null when absent.
    /// </summary>
    public static string? CorpusFolder([CallerFilePath] string sourceFile = "")
    {
        var fromEnv = Environment.GetEnvironmentVariable("CAUSEWAY_CONNECTOR_CORPUS");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Directory.Exists(fromEnv) ? fromEnv : null;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "", Directory.GetCurrentDirectory() })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "corpus", "connectors");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
