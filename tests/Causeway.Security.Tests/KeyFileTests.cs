using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Causeway.Security;

namespace Causeway.Security.Tests;

public sealed class KeyFileTests
{
    private const string Recovery = "correct horse battery staple";
    private static readonly RSA Key = GatewayEnvelope.CreateKey();
    private static readonly string Protected = KeyFile.Protect(Key, Recovery, KeyFile.MinimumIterations);

    [Fact]
    public void Unprotect_RightRecoveryKey_ReturnsSameKey()
    {
        using var opened = KeyFile.Unprotect(Protected, Recovery);

        Assert.True(GatewayEnvelope.IsPairOf(opened, GatewayEnvelope.ExportPublicKey(Key)));
    }

    [Fact]
    public void Protect_Default_UsesHighIterationsRandomSaltAndNoClearKey()
    {
        var a = JsonNode.Parse(KeyFile.Protect(Key, Recovery))!;
        var b = JsonNode.Parse(Protected)!;

        Assert.Equal(KeyFile.DefaultIterations, (int)a["iterations"]!);
        Assert.True(KeyFile.DefaultIterations >= 600_000);
        Assert.NotEqual((string?)a["salt"], (string?)b["salt"]);
        var pkcs8 = Convert.ToBase64String(Key.ExportPkcs8PrivateKey());
        Assert.DoesNotContain(pkcs8[..40], a.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_WrongRecoveryKey_ThrowsClearError()
    {
        var error = Assert.Throws<GatewayCryptoException>(() => KeyFile.Unprotect(Protected, "wrong recovery key"));

        Assert.Contains("recovery key is wrong", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong recovery key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_TamperedCiphertext_Throws()
    {
        var json = JsonNode.Parse(Protected)!;
        var bytes = Convert.FromBase64String((string)json["ciphertext"]!);
        bytes[10] ^= 1;
        json["ciphertext"] = Convert.ToBase64String(bytes);

        Assert.Throws<GatewayCryptoException>(() => KeyFile.Unprotect(json.ToJsonString(), Recovery));
    }

    [Fact]
    public void Unprotect_WeakenedIterations_IsRefused()
    {
        var json = JsonNode.Parse(Protected)!;
        json["iterations"] = 1000;

        var error = Assert.Throws<GatewayCryptoException>(() => KeyFile.Unprotect(json.ToJsonString(), Recovery));

        Assert.Contains("too weak", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"format\":\"other\"}")]
    public void Unprotect_NotAKeyFile_Throws(string text)
    {
        Assert.Throws<GatewayCryptoException>(() => KeyFile.Unprotect(text, Recovery));
    }

    [Fact]
    public void Protect_ShortRecoveryKey_Throws()
    {
        Assert.Throws<ArgumentException>(() => KeyFile.Protect(Key, "short"));
        Assert.NotNull(KeyFile.CheckRecoveryKey(null));
        Assert.Null(KeyFile.CheckRecoveryKey(Recovery));
    }

    [Fact]
    public void Save_NewFile_IsOwnerOnly()
    {
        var path = Path.Combine(Path.GetTempPath(), $"causeway-keyfile-{Guid.NewGuid():N}", "gateway.key");
        try
        {
            KeyFile.Save(path, Protected);

            Assert.Equal(Protected, File.ReadAllText(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
