using Causeway.Relay.DataPlane;
using Causeway.Relay.HybridConnections;
using Causeway.Security;

namespace Causeway.Relay.Tests;

public sealed class RelayAuthorizerTests
{
    private static readonly HybridConnection Echo = new(
        "team/echo",
        true,
        true,
        [
            new AuthorizationRule("root", HybridConnection.AllRights, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey()),
            new AuthorizationRule("sender", AccessRights.Send, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey()),
        ],
        DateTimeOffset.UtcNow);

    private readonly RelayAuthorizer _authorizer = new(TimeProvider.System);

    [Theory]
    [InlineData("http://relay.example.com/team/echo")]
    [InlineData("https://relay.example.com:5671/team/echo")]
    [InlineData("sb://relay.example.com:5671/team/echo/")]
    [InlineData("wss://relay.example.com:5671/$hc/team/echo")]
    [InlineData("http://relay.example.com/TEAM/Echo")]
    [InlineData("http://relay.example.com/team")]
    [InlineData("http://relay.example.com/")]
    public void ResourceCovers_FormsClientsUse_ReturnsTrue(string resource)
    {
        Assert.True(RelayAuthorizer.ResourceCovers(resource, Echo.Path));
    }

    [Theory]
    [InlineData("http://relay.example.com/team/echo2")]
    [InlineData("http://relay.example.com/tea")]
    [InlineData("http://relay.example.com/other/echo")]
    [InlineData("ftp://relay.example.com/team/echo")]
    public void ResourceCovers_OtherResources_ReturnsFalse(string resource)
    {
        Assert.False(RelayAuthorizer.ResourceCovers(resource, Echo.Path));
    }

    [Fact]
    public void Authorize_ManageRuleForListen_Allowed()
    {
        var token = Token("root", Echo.AuthorizationRules[0].PrimaryKey, TimeSpan.FromMinutes(5));

        var result = _authorizer.Authorize(Echo, token, AccessRights.Listen);

        Assert.Equal(AuthorizationOutcome.Allowed, result.Outcome);
    }

    [Fact]
    public void Authorize_SendRuleForListen_Forbidden()
    {
        var token = Token("sender", Echo.AuthorizationRules[1].SecondaryKey, TimeSpan.FromMinutes(5));

        var result = _authorizer.Authorize(Echo, token, AccessRights.Listen);

        Assert.Equal(403, result.StatusCode);
    }

    [Fact]
    public void Authorize_UnknownKeyName_Unauthorized()
    {
        var result = _authorizer.Authorize(Echo, Token("nobody", Echo.AuthorizationRules[0].PrimaryKey, TimeSpan.FromMinutes(5)), AccessRights.Send);

        Assert.Equal(401, result.StatusCode);
    }

    [Fact]
    public void Authorize_Expired_UnauthorizedWithReasonWithoutToken()
    {
        var token = Token("root", Echo.AuthorizationRules[0].PrimaryKey, TimeSpan.FromMinutes(-1));

        var result = _authorizer.Authorize(Echo, token, AccessRights.Send);

        Assert.Equal(401, result.StatusCode);
        Assert.Contains("expired", result.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", result.Reason, StringComparison.Ordinal);
    }

    private static string Token(string keyName, string key, TimeSpan lifetime) =>
        SharedAccessSignature.Create("http://relay.example.com/team/echo", keyName, key, DateTimeOffset.UtcNow + lifetime);
}
