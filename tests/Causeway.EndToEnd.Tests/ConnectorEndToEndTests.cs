using System.Runtime.CompilerServices;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

public sealed class ConnectorEndToEndTests
{
    private static string PackagesFolder([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "Causeway.Connectors.Tests", "packages"));

    [Fact]
    public async Task Cli_ImportRealPackageFolder_AppearsInCatalog()
    {
        using var folder = new TempFolder("causeway-e2e");
        var data = folder.Combine("data");
        var profile = folder.Combine("profile.json");
        await using var server = await ServerProcess.StartAsync(data);
        await server.LoginAsync(profile);

        var imported = await Programs.CliAsync(profile, "connector", "import", Path.Combine(PackagesFolder(), "Planner"), "--json");
        var missing = await Programs.CliAsync(profile, "connector", "import", folder.Path);
        var list = await Programs.CliAsync(profile, "connector", "list", "--json");

        Assert.True(imported.Code == 0, imported.Error);
        Assert.Contains("\"name\": \"planner\"", imported.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.Code);
        Assert.Contains("has no apiDefinition.swagger.json", missing.Error, StringComparison.Ordinal);
        Assert.Contains("\"planner\"", list.Output, StringComparison.Ordinal);
    }
}
