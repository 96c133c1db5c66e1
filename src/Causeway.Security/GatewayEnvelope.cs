using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Causeway.Security;

/// <summary>Thrown when an envelope or key file cannot be opened; the message is safe to show (it never holds key material).</summary>
public sealed class GatewayCryptoException(string message, Exception? innerException = null) : CryptographicException(message, innerException);

/// <summary>
/// The envelope in which data-source credentials travel to and rest in the cloud: a fresh AES-256-GCM key encrypts the
/// payload and is itself wrapped with the gateway cluster's RSA public key (OAEP, SHA-256). Only a holder of the
/// cluster's private key (its agents) can open it; the server only ever seals. All members are thread-safe.
/// </summary>
/// <remarks>
/// Layout (then base64): <c>version(1)=1 | wrappedKeyLength(2, big-endian) | wrappedKey | nonce(12) | tag(16) | ciphertext</c>.
/// The version byte and the caller's associated data (for example the cluster id) are authenticated with the payload,
/// so an envelope cannot be moved to another cluster or altered without <see cref="Open"/> failing.
/// </remarks>
public static class GatewayEnvelope
{
    /// <summary>The smallest RSA key accepted for a cluster.</summary>
    public const int MinimumKeySizeBits = 3072;

    /// <summary>The key size of new cluster keys.</summary>
    public const int KeySizeBits = 3072;

    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>A new RSA key pair for a gateway cluster (3072 bits).</summary>
    public static RSA CreateKey() => RSA.Create(KeySizeBits);

    /// <summary>The public half as PEM (SubjectPublicKeyInfo), the form the REST API serves as <c>publicKey</c>.</summary>
    public static string ExportPublicKey(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>Reads a PEM public key and checks that it is RSA of at least <see cref="MinimumKeySizeBits"/> bits.</summary>
    /// <exception cref="GatewayCryptoException">Not a PEM RSA public key, or too small.</exception>
    public static RSA ImportPublicKey(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var key = RSA.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new GatewayCryptoException("The public key is not a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----).", e);
        }

        if (key.KeySize < MinimumKeySizeBits)
        {
            var size = key.KeySize;
            key.Dispose();
            throw new GatewayCryptoException($"The public key has {size} bits; gateway keys must have at least {MinimumKeySizeBits}.");
        }

        return key;
    }

    /// <summary>True when <paramref name="privateKey"/> is the private half of <paramref name="publicKeyPem"/>.</summary>
    public static bool IsPairOf(RSA privateKey, string publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(publicKeyPem);
        return string.Equals(privateKey.ExportSubjectPublicKeyInfoPem().Trim(), publicKeyPem.Trim(), StringComparison.Ordinal);
    }

    /// <summary>Seals <paramref name="plaintext"/> for the holder of the private half of <paramref name="publicKey"/>.</summary>
    /// <param name="associatedData">Bound to the envelope; <see cref="Open"/> must be given the same bytes.</param>
    /// <returns>The envelope, base64.</returns>
    public static string Seal(RSA publicKey, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        Span<byte> contentKey = stackalloc byte[32];
        RandomNumberGenerator.Fill(contentKey);
        try
        {
            var wrapped = publicKey.Encrypt(contentKey.ToArray(), RSAEncryptionPadding.OaepSHA256);
            var envelope = new byte[1 + 2 + wrapped.Length + NonceSize + TagSize + plaintext.Length];
            envelope[0] = Version;
            BinaryPrimitives.WriteUInt16BigEndian(envelope.AsSpan(1, 2), checked((ushort)wrapped.Length));
            wrapped.CopyTo(envelope.AsSpan(3));
            var offset = 3 + wrapped.Length;
            var nonce = envelope.AsSpan(offset, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            var tag = envelope.AsSpan(offset + NonceSize, TagSize);
            var ciphertext = envelope.AsSpan(offset + NonceSize + TagSize);
            using var aes = new AesGcm(contentKey, TagSize);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, Aad(envelope.AsSpan(0, offset), associatedData));
            return Convert.ToBase64String(envelope);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    /// <summary>Opens an envelope made by <see cref="Seal"/> with the matching private key and associated data.</summary>
    /// <exception cref="GatewayCryptoException">Not an envelope, made for another key, or altered.</exception>
    public static byte[] Open(RSA privateKey, string envelope, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(envelope);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(envelope);
        }
        catch (FormatException e)
        {
            throw new GatewayCryptoException("The envelope is not base64.", e);
        }

        if (bytes.Length < 3 || bytes[0] != Version)
        {
            throw new GatewayCryptoException("The envelope has an unknown format (expected version 1).");
        }

        var wrappedLength = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(1, 2));
        var offset = 3 + wrappedLength;
        if (bytes.Length < offset + NonceSize + TagSize)
        {
            throw new GatewayCryptoException("The envelope is truncated.");
        }

        byte[] contentKey;
        try
        {
            contentKey = privateKey.Decrypt(bytes.AsSpan(3, wrappedLength).ToArray(), RSAEncryptionPadding.OaepSHA256);
        }
        catch (CryptographicException e)
        {
            throw new GatewayCryptoException("The envelope was not made for this gateway's key, or it was altered.", e);
        }

        try
        {
            if (contentKey.Length != 32)
            {
                throw new GatewayCryptoException("The envelope's content key has the wrong size.");
            }

            var plaintext = new byte[bytes.Length - offset - NonceSize - TagSize];
            using var aes = new AesGcm(contentKey, TagSize);
            aes.Decrypt(bytes.AsSpan(offset, NonceSize), bytes.AsSpan(offset + NonceSize + TagSize), bytes.AsSpan(offset + NonceSize, TagSize), plaintext,
                Aad(bytes.AsSpan(0, offset), associatedData));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new GatewayCryptoException("The envelope was altered or belongs to another cluster (authentication failed).", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }

    // The header (version, wrapped key) is authenticated too, so no byte of the envelope can change unnoticed.
    private static byte[] Aad(ReadOnlySpan<byte> header, ReadOnlySpan<byte> associatedData)
    {
        var aad = new byte[header.Length + associatedData.Length];
        header.CopyTo(aad);
        associatedData.CopyTo(aad.AsSpan(header.Length));
        return aad;
    }
}
