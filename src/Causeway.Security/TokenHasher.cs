using System.Security.Cryptography;
using System.Text;

namespace Causeway.Security;

/// <summary>
/// Issues opaque bearer tokens and hashes them for storage. Tokens carry 256 random bits, so a plain SHA-256 is enough:
/// there is nothing to brute-force, and a fast hash keeps every request's look-up cheap.
/// </summary>
public static class TokenHasher
{
    /// <summary>Creates a new token: <paramref name="prefix"/> + '_' + 43 base64url characters. Thread-safe.</summary>
    public static string NewToken(string prefix) => $"{prefix}_{Base64Url(RandomNumberGenerator.GetBytes(32))}";

    /// <summary>The hex SHA-256 of the token, the only form ever stored.</summary>
    public static string Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);

        // Every authenticated request hashes its token: the UTF-8 bytes and the digest stay on the stack (or in a pooled
        // buffer for an unusually long token), and the token's bytes are wiped before the memory is reused.
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        var rented = length > 256 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        var utf8 = rented is null ? stackalloc byte[256] : rented.AsSpan();
        var written = Encoding.UTF8.GetBytes(token, utf8);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], digest);
        CryptographicOperations.ZeroMemory(utf8[..written]);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Base64url without padding.</summary>
    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
