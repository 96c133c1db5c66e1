using Causeway.Security;

namespace Causeway.Security.Tests;

public sealed class TokenHasherTests
{
    [Fact]
    public void NewToken_TwoCalls_DifferAndCarryPrefix()
    {
        var a = TokenHasher.NewToken("cw");
        var b = TokenHasher.NewToken("cw");

        Assert.NotEqual(a, b);
        Assert.StartsWith("cw_", a, StringComparison.Ordinal);
        Assert.Equal(3 + 43, a.Length);
    }

    [Fact]
    public void Hash_SameToken_IsStableHexAndNotTheToken()
    {
        var token = TokenHasher.NewToken("cw");

        var hash = TokenHasher.Hash(token);

        Assert.Equal(hash, TokenHasher.Hash(token));
        Assert.Equal(64, hash.Length);
        Assert.DoesNotContain(token, hash, StringComparison.Ordinal);
        Assert.NotEqual(hash, TokenHasher.Hash(token + "x"));
    }
}
