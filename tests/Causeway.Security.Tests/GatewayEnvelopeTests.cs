using System.Security.Cryptography;
using System.Text;
using Causeway.Security;

namespace Causeway.Security.Tests;

public sealed class GatewayEnvelopeTests
{
    private static readonly RSA Key = GatewayEnvelope.CreateKey();
    private static readonly byte[] Cluster = Encoding.UTF8.GetBytes("cluster-1");

    [Fact]
    public void Seal_ThenOpenWithPrivateKey_ReturnsPlaintext()
    {
        using var publicOnly = GatewayEnvelope.ImportPublicKey(GatewayEnvelope.ExportPublicKey(Key));
        var secret = Encoding.UTF8.GetBytes("{\"password\":\"p\"}");

        var envelope = GatewayEnvelope.Seal(publicOnly, secret, Cluster);

        Assert.Equal(secret, GatewayEnvelope.Open(Key, envelope, Cluster));
        Assert.DoesNotContain("password", Encoding.UTF8.GetString(Convert.FromBase64String(envelope)), StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_SamePlaintextTwice_GivesDifferentEnvelopes()
    {
        var a = GatewayEnvelope.Seal(Key, "x"u8, Cluster);
        var b = GatewayEnvelope.Seal(Key, "x"u8, Cluster);

        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(3 + 384 + 3)]
    [InlineData(3 + 384 + 12 + 3)]
    [InlineData(-1)]
    public void Open_AnyByteFlipped_ThrowsClearError(int position)
    {
        var bytes = Convert.FromBase64String(GatewayEnvelope.Seal(Key, "secret payload"u8, Cluster));
        bytes[position < 0 ? bytes.Length - 1 : position] ^= 0x40;

        var error = Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.Open(Key, Convert.ToBase64String(bytes), Cluster));

        Assert.Matches("format|altered|not made for this", error.Message);
    }

    [Fact]
    public void Open_OtherAssociatedData_Throws()
    {
        var envelope = GatewayEnvelope.Seal(Key, "secret"u8, Cluster);

        var error = Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.Open(Key, envelope, "cluster-2"u8));

        Assert.Contains("another cluster", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OtherKey_Throws()
    {
        using var other = GatewayEnvelope.CreateKey();
        var envelope = GatewayEnvelope.Seal(Key, "secret"u8, Cluster);

        Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.Open(other, envelope, Cluster));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AQ==")]
    [InlineData("AgAA")]
    public void Open_Garbage_ThrowsClearError(string envelope)
    {
        var error = Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.Open(Key, envelope, Cluster));

        Assert.Matches("base64|format|truncated", error.Message);
    }

    [Fact]
    public void ImportPublicKey_SmallKey_IsRefused()
    {
        using var small = RSA.Create(2048);

        var error = Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.ImportPublicKey(small.ExportSubjectPublicKeyInfoPem()));

        Assert.Contains("3072", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImportPublicKey_NotPem_IsRefused()
    {
        Assert.Throws<GatewayCryptoException>(() => GatewayEnvelope.ImportPublicKey("hello"));
    }

    [Fact]
    public void IsPairOf_MatchingAndOtherKey_TellsApart()
    {
        using var other = GatewayEnvelope.CreateKey();
        var pem = GatewayEnvelope.ExportPublicKey(Key);

        Assert.True(GatewayEnvelope.IsPairOf(Key, pem));
        Assert.False(GatewayEnvelope.IsPairOf(other, pem));
        Assert.True(Key.KeySize >= 3072);
    }
}
