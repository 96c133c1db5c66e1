using Causeway.Gateway.Agent;

namespace Causeway.Gateway.Tests;

/// <summary>The agent's CAUSEWAY_GATEWAY_HTTP_ALLOWED_HOSTS: which backends gateway connections may make it call.</summary>
public sealed class HostAllowListTests
{
    [Fact]
    public void Unset_AllowsEveryHost()
    {
        var list = HostAllowList.Parse(null);

        Assert.True(list.AllowsAll);
        Assert.True(list.Allows(new Uri("https://anything.example:9443/x")));
        Assert.Equal("every host", list.ToString());
    }

    [Fact]
    public void Entries_MatchNameSubdomainsAndPort_IgnoringCase()
    {
        var list = HostAllowList.Parse("erp.corp.example, *.files.corp.example:8443 10.1.2.3");

        Assert.True(list.Allows(new Uri("https://ERP.corp.example/api")));
        Assert.True(list.Allows(new Uri("http://erp.corp.example:8080/")));
        Assert.True(list.Allows(new Uri("https://eu.files.corp.example:8443/")));
        Assert.True(list.Allows(new Uri("http://10.1.2.3/")));
        Assert.False(list.Allows(new Uri("https://files.corp.example:8443/")));
        Assert.False(list.Allows(new Uri("https://eu.files.corp.example/")));
        Assert.False(list.Allows(new Uri("https://erp.corp.example.evil.example/")));
        Assert.False(list.Allows(new Uri("http://169.254.169.254/latest/meta-data")));
        Assert.Equal("erp.corp.example, *.files.corp.example:8443, 10.1.2.3", list.ToString());
    }

    [Theory]
    [InlineData("erp.corp.example:0")]
    [InlineData("erp.corp.example:http")]
    [InlineData("*.")]
    [InlineData("http://erp.corp.example")]
    public void BadEntry_FailsNamingTheSetting(string entry)
    {
        var e = Assert.ThrowsAny<Exception>(() => HostAllowList.Parse(entry));

        Assert.Contains("CAUSEWAY_GATEWAY_HTTP_ALLOWED_HOSTS", e.Message, StringComparison.Ordinal);
    }
}
