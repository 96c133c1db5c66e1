using System.Security.Cryptography;
using System.Text;

namespace Causeway.Security.Tests;

public class MachineEnvelopeTests
{
    private const string Canary = "canary-password-5b1e9d";
    private static readonly RSA MachineKey = RSA.Create(3072);

    [Fact]
    public void SealThenOpen_SameMachine_GivesTheCredentialsBack()
    {
        var machine = Guid.NewGuid();

        var sealedText = MachineEnvelope.Seal(MachineKey.ExportSubjectPublicKeyInfoPem(), machine, new RunAsCredentials("robot", Canary));
        var opened = MachineEnvelope.Open(MachineKey, machine, sealedText);

        Assert.Equal(new RunAsCredentials("robot", Canary), opened);
    }

    [Fact]
    public void Seal_Canary_PlaintextAppearsNowhereInTheEnvelope()
    {
        var sealedText = MachineEnvelope.Seal(MachineKey.ExportSubjectPublicKeyInfoPem(), Guid.NewGuid(), new RunAsCredentials("robot", Canary));
        var bytes = Convert.FromBase64String(sealedText);

        Assert.DoesNotContain(Canary, sealedText, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WithWhatTheServerHolds_Fails()
    {
        // The server stores only the machine's public key; an RSA object made from it has no private half to unwrap with.
        var machine = Guid.NewGuid();
        var publicPem = MachineKey.ExportSubjectPublicKeyInfoPem();
        var sealedText = MachineEnvelope.Seal(publicPem, machine, new RunAsCredentials("robot", Canary));
        using var serverKey = GatewayEnvelope.ImportPublicKey(publicPem);

        Assert.ThrowsAny<CryptographicException>(() => MachineEnvelope.Open(serverKey, machine, sealedText));
    }

    [Fact]
    public void Open_AnotherMachinesKeyOrId_Fails()
    {
        var machine = Guid.NewGuid();
        var sealedText = MachineEnvelope.Seal(MachineKey.ExportSubjectPublicKeyInfoPem(), machine, new RunAsCredentials("robot", Canary));
        using var otherKey = RSA.Create(3072);

        Assert.Throws<GatewayCryptoException>(() => MachineEnvelope.Open(otherKey, machine, sealedText));
        Assert.Throws<GatewayCryptoException>(() => MachineEnvelope.Open(MachineKey, Guid.NewGuid(), sealedText));
    }

    [Fact]
    public void Seal_SmallKey_Refused()
    {
        using var small = RSA.Create(2048);

        Assert.Throws<GatewayCryptoException>(() => MachineEnvelope.Seal(small.ExportSubjectPublicKeyInfoPem(), Guid.NewGuid(), new RunAsCredentials("u", "p")));
    }

    [Fact]
    public void ToString_Credentials_MasksThePassword()
    {
        Assert.DoesNotContain(Canary, new RunAsCredentials("robot", Canary).ToString(), StringComparison.Ordinal);
    }
}
