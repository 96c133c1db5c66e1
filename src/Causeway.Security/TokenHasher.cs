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
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Base64url without padding.</summary>
    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
