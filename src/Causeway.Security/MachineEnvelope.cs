using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Causeway.Security;

/// <summary>
/// Run-as credentials of a desktop-flow connection (the account a machine signs in with to run a flow). The password is
/// a secret: <see cref="ToString"/> masks it.
/// </summary>
public sealed record RunAsCredentials(string UserName, string Password)
{
    /// <inheritdoc />
    public override string ToString() => $"RunAsCredentials {{ UserName = {UserName}, Password = *** }}";
}

/// <summary>
/// Seals run-as credentials for one desktop machine: the same RSA-OAEP-SHA256 + AES-256-GCM envelope as
/// <see cref="GatewayEnvelope"/>, bound to the machine's id, so that only that machine's private key opens it and an
/// envelope cannot be replayed to another machine that happens to share a key. The cloud only ever seals. Thread-safe.
/// </summary>
public static class MachineEnvelope
{
    /// <summary>Seals <paramref name="credentials"/> for the machine <paramref name="machineId"/> whose public key is <paramref name="publicKeyPem"/>.</summary>
    /// <exception cref="GatewayCryptoException">The public key is not a PEM RSA key of at least 3072 bits.</exception>
    public static string Seal(string publicKeyPem, Guid machineId, RunAsCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        using var key = GatewayEnvelope.ImportPublicKey(publicKeyPem);
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["userName"] = credentials.UserName, ["password"] = credentials.Password });
        try
        {
            return GatewayEnvelope.Seal(key, plaintext, AssociatedData(machineId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Opens an envelope sealed for <paramref name="machineId"/> with the machine's private key.</summary>
    /// <exception cref="GatewayCryptoException">Not an envelope, sealed for another machine or key, or altered.</exception>
    public static RunAsCredentials Open(RSA privateKey, Guid machineId, string envelope)
    {
        var plaintext = GatewayEnvelope.Open(privateKey, envelope, AssociatedData(machineId));
        try
        {
            var values = JsonSerializer.Deserialize<Dictionary<string, string>>(plaintext);
            return values is not null && values.TryGetValue("userName", out var user) && values.TryGetValue("password", out var password)
                ? new RunAsCredentials(user, password)
                : throw new GatewayCryptoException("The envelope does not hold run-as credentials.");
        }
        catch (JsonException e)
        {
            throw new GatewayCryptoException("The envelope does not hold run-as credentials.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static byte[] AssociatedData(Guid machineId) => Encoding.UTF8.GetBytes($"causeway-desktop-machine:{machineId:D}");
}
