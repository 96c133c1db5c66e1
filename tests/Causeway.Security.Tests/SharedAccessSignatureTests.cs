using Causeway.Security;

namespace Causeway.Security.Tests;

public sealed class SharedAccessSignatureTests
{
    private const string Key = "dGVzdC1rZXktbm90LXJlYWxseS1zZWNyZXQtMTIzNDU2Nzg=";

    // Made by the algorithm of Microsoft's hyco-ws createRelayToken (Node crypto, encodeURIComponent) with se fixed.
    private const string NodeToken =
        "SharedAccessSignature sr=http%3A%2F%2Frelay.example.com%2Fecho&sig=0dn5xAluM5LQYBIvaBF5Xh0AMMVrteEqNmZDDLd%2B4qw%3D&se=1900000000&skn=RootManageSharedAccessKey";

    [Fact]
    public void Create_SameInputsAsNodeClient_ProducesIdenticalToken()
    {
        var token = SharedAccessSignature.Create(
            "http://relay.example.com/echo", "RootManageSharedAccessKey", Key, DateTimeOffset.FromUnixTimeSeconds(1_900_000_000));

        Assert.Equal(NodeToken, token);
    }

    [Fact]
    public void TryParse_NodeToken_ExposesFields()
    {
        Assert.True(SharedAccessSignature.TryParse(NodeToken, out var parsed));

        Assert.Equal("http://relay.example.com/echo", parsed.Resource);
        Assert.Equal("RootManageSharedAccessKey", parsed.KeyName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_900_000_000), parsed.ExpiresAt);
        Assert.True(SharedAccessSignature.IsSignatureValid(parsed, Key));
    }

    [Fact]
    public void IsSignatureValid_OtherKey_ReturnsFalse()
    {
        Assert.True(SharedAccessSignature.TryParse(NodeToken, out var parsed));

        Assert.False(SharedAccessSignature.IsSignatureValid(parsed, SharedAccessSignature.GenerateKey()));
    }

    [Fact]
    public void IsSignatureValid_TamperedExpiry_ReturnsFalse()
    {
        var tampered = NodeToken.Replace("se=1900000000", "se=1900000001", StringComparison.Ordinal);
        Assert.True(SharedAccessSignature.TryParse(tampered, out var parsed));

        Assert.False(SharedAccessSignature.IsSignatureValid(parsed, Key));
    }

    [Fact]
    public void IsSignatureValid_TamperedResource_ReturnsFalse()
    {
        var tampered = NodeToken.Replace("%2Fecho", "%2Fother", StringComparison.Ordinal);
        Assert.True(SharedAccessSignature.TryParse(tampered, out var parsed));

        Assert.False(SharedAccessSignature.IsSignatureValid(parsed, Key));
    }

    [Theory]
    [InlineData("")]
    [InlineData("SharedAccessSignature")]
    [InlineData("SharedAccessSignature sr=http%3A%2F%2Fx%2Fy&sig=abc&skn=k")]
    [InlineData("SharedAccessSignature sr=http%3A%2F%2Fx%2Fy&sig=abc&se=soon&skn=k")]
    [InlineData("SharedAccessSignature sr=not-a-uri&sig=abc&se=1&skn=k")]
    [InlineData("SharedAccessSignature garbage")]
    public void TryParse_Incomplete_ReturnsFalse(string token)
    {
        Assert.False(SharedAccessSignature.TryParse(token, out _));
    }

    [Fact]
    public void TryParse_PastExpiry_IsExpired()
    {
        var token = SharedAccessSignature.Create("sb://host:5671/echo", "k", Key, DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.True(SharedAccessSignature.TryParse(token, out var parsed));

        Assert.True(parsed.IsExpired(DateTimeOffset.UtcNow));
        Assert.True(SharedAccessSignature.IsSignatureValid(parsed, Key));
    }

    [Fact]
    public void ToString_NeverContainsSignature()
    {
        Assert.True(SharedAccessSignature.TryParse(NodeToken, out var parsed));

        Assert.DoesNotContain(parsed.Signature, parsed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void GenerateKey_Returns32RandomBytesAsBase64()
    {
        var key = SharedAccessSignature.GenerateKey();

        Assert.Equal(32, Convert.FromBase64String(key).Length);
        Assert.NotEqual(key, SharedAccessSignature.GenerateKey());
    }
}
