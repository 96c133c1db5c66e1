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

    [Theory]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void Hash_KnownInputs_AreTheirSha256InHex(string token, string expected)
    {
        Assert.Equal(expected, TokenHasher.Hash(token));
    }

    [Fact]
    public void Hash_TokenLongerThanTheStackBuffer_SameAsHashingItsUtf8()
    {
        // 300 two-byte characters: 600 UTF-8 bytes, more than the 256 bytes hashed on the stack.
        var token = new string('\u00e9', 300);

        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

        Assert.Equal(expected, TokenHasher.Hash(token));
    }
}
