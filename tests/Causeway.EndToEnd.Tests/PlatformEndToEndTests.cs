using System.Text.Json;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

public sealed class PlatformEndToEndTests
{
    [Fact]
    public async Task Cli_CreateEuropeProductionEnvironment_PairedAndOwnDatabaseThenDeleted()
    {
        using var folder = new TempFolder("causeway-e2e");
        var data = folder.Combine("data");
        var profile = folder.Combine("profile.json");
        await using var server = await ServerProcess.StartAsync(data);
        var token = await server.LoginAsync(profile);

        var created = await Programs.CliAsync(profile, "env", "create", "--name", "contoso", "--geography", "europe", "--type", "production", "--json");
        Assert.True(created.Code == 0, created.Error);
        using var json = JsonDocument.Parse(created.Output);
        var env = json.RootElement;
        Assert.Equal(["northeurope", "westeurope"], new[] { env.GetProperty("primaryDatacenter").GetString()!, env.GetProperty("secondaryDatacenter").GetString()! }.Order());
        var primary = env.GetProperty("scaleGroups").GetProperty("primary").GetString()!;
        Assert.EndsWith("-prod-1", primary, StringComparison.Ordinal);
        Assert.EndsWith("-prod-1", env.GetProperty("scaleGroups").GetProperty("secondary").GetString()!, StringComparison.Ordinal);
        var database = Path.Combine(data, "datacenters", env.GetProperty("primaryDatacenter").GetString()!, primary, "environments", $"{env.GetProperty("id").GetString()}.db");
        Assert.True(File.Exists(database), $"expected the environment's database at {database}");

        var deleted = await Programs.CliAsync(profile, "env", "delete", "contoso");
        Assert.True(deleted.Code == 0, deleted.Error);
        Assert.False(File.Exists(database));
        Assert.DoesNotContain(token, server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_Failures_ExitNonZeroWithOneLineAndNoSecret()
    {
        using var folder = new TempFolder("causeway-e2e");
        var data = folder.Combine("data");
        var profile = folder.Combine("profile.json");
        await using var server = await ServerProcess.StartAsync(data);
        var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"))).Trim();
        var trust = Path.Combine(data, "certificate.pem");

        var untrusted = await Programs.CliAsync(profile, "env", "list", "--url", server.Url, "--token", token);
        var wrongToken = await Programs.CliAsync(profile, "env", "list", "--url", server.Url, "--token", "cwt_wrong", "--trust-certificate", trust);
        var badGeography = await Programs.CliAsync(profile, "env", "create", "--name", "x1", "--geography", "atlantis", "--type", "sandbox",
            "--url", server.Url, "--token", token, "--trust-certificate", trust);
        var deleteDefault = await Programs.CliAsync(profile, "env", "delete", "default", "--url", server.Url, "--token", token, "--trust-certificate", trust);

        Assert.Equal(1, untrusted.Code);
        Assert.Contains("cannot reach the server", untrusted.Error, StringComparison.Ordinal);
        Assert.Equal(1, wrongToken.Code);
        Assert.Contains("401", wrongToken.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("cwt_wrong", wrongToken.Error, StringComparison.Ordinal);
        Assert.Equal(1, badGeography.Code);
        Assert.Contains("'atlantis' is not a known geography", badGeography.Error, StringComparison.Ordinal);
        Assert.Equal(1, deleteDefault.Code);
        Assert.Single(deleteDefault.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Server_Restarted_KeepsTenantsTokensAndEnvironments()
    {
        using var folder = new TempFolder("causeway-e2e");
        var data = folder.Combine("data");
        var profile = folder.Combine("profile.json");
        string token;
        await using (var first = await ServerProcess.StartAsync(data))
        {
            token = (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"))).Trim();
            var created = await Programs.CliAsync(profile, "env", "create", "--name", "kept", "--geography", "asia", "--type", "sandbox",
                "--url", first.Url, "--token", token, "--trust-certificate", Path.Combine(data, "certificate.pem"));
            Assert.True(created.Code == 0, created.Error);
        }

        await using var second = await ServerProcess.StartAsync(data);
        var list = await Programs.CliAsync(profile, "env", "list", "--json", "--url", second.Url, "--token", token, "--trust-certificate", Path.Combine(data, "certificate.pem"));

        Assert.True(list.Code == 0, list.Error);
        Assert.Contains("\"kept\"", list.Output, StringComparison.Ordinal);
        Assert.Equal(token, (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"))).Trim());
    }
}
