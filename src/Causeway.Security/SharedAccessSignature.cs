using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Causeway.Security;

/// <summary>
/// Shared access signature tokens in Azure's exact format:
/// <c>SharedAccessSignature sr={urlencoded uri}&amp;sig={urlencoded base64 HMAC-SHA256}&amp;se={unix expiry}&amp;skn={key name}</c>,
/// where the signature covers <c>{urlencoded uri} + "\n" + {expiry}</c> and the HMAC key is the UTF-8 text of the key
/// (not its base64 decoding), as Microsoft's clients compute it. All members are thread-safe.
/// </summary>
public static class SharedAccessSignature
{
    /// <summary>The scheme word every token starts with.</summary>
    public const string Scheme = "SharedAccessSignature";

    /// <summary>A new random key: 32 bytes, base64 (44 characters), the shape Azure generates.</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Creates a token for <paramref name="resourceUri"/> that expires at <paramref name="expiresAt"/>.</summary>
    /// <exception cref="ArgumentException">An argument is empty.</exception>
    public static string Create(string resourceUri, string keyName, string key, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(resourceUri);
        ArgumentException.ThrowIfNullOrEmpty(keyName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var encodedResource = Encode(resourceUri);
        var expiry = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Sign(encodedResource, expiry, key);
        return $"{Scheme} sr={encodedResource}&sig={Encode(signature)}&se={expiry}&skn={Encode(keyName)}";
    }

    /// <summary>
    /// Parses a token (with or without the scheme word). Returns false for anything that is not a complete token;
    /// parsing says nothing about the signature — call <see cref="IsSignatureValid"/> for that.
    /// </summary>
    public static bool TryParse(string? token, [NotNullWhen(true)] out SharedAccessSignatureToken? parsed)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(token))
        {
            return false;
        }

        var text = token.Trim();
        if (text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            text = text[Scheme.Length..].TrimStart();
        }

        string? sr = null, sig = null, se = null, skn = null;
        foreach (var part in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return false;
            }

            var name = part[..eq];
            var value = part[(eq + 1)..];
            switch (name)
            {
                case "sr": sr = value; break;
                case "sig": sig = value; break;
                case "se": se = value; break;
                case "skn": skn = value; break;
                default: break; // Azure ignores fields it does not know; so do we.
            }
        }

        if (string.IsNullOrEmpty(sr) || string.IsNullOrEmpty(sig) || string.IsNullOrEmpty(skn) ||
            !long.TryParse(se, NumberStyles.None, CultureInfo.InvariantCulture, out var expiry))
        {
            return false;
        }

        string resource;
        try
        {
            resource = Decode(sr);
            if (!Uri.TryCreate(resource, UriKind.Absolute, out _))
            {
                return false;
            }

            parsed = new SharedAccessSignatureToken(
                resource,
                sr,
                Decode(sig),
                se!,
                DateTimeOffset.FromUnixTimeSeconds(expiry),
                Decode(skn));
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>
    /// True when the token's signature was made with <paramref name="key"/>. The signed text is the resource exactly as
    /// it was encoded in the token, so clients that percent-encode slightly differently still verify. Constant time.
    /// </summary>
    public static bool IsSignatureValid(SharedAccessSignatureToken token, string key)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentException.ThrowIfNullOrEmpty(key);
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(token.Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = Convert.FromBase64String(Sign(token.EncodedResource, token.ExpiryText, key));
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    private static string Sign(string encodedResource, string expiry, string key)
    {
        var data = Encoding.UTF8.GetBytes(encodedResource + "\n" + expiry);
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), data));
    }

    // Azure's SDKs use WebUtility.UrlEncode; Node's clients use encodeURIComponent. Both decode the same way.
    private static string Encode(string value) => WebUtility.UrlEncode(value);

    private static string Decode(string value) => WebUtility.UrlDecode(value);
}

/// <summary>A parsed shared access signature token.</summary>
/// <param name="Resource">The decoded resource URI the token was issued for.</param>
/// <param name="EncodedResource">The resource exactly as it appeared in the token (what was signed).</param>
/// <param name="Signature">The base64 signature.</param>
/// <param name="ExpiryText">The expiry exactly as it appeared in the token (what was signed).</param>
/// <param name="ExpiresAt">When the token stops being valid.</param>
/// <param name="KeyName">The name of the key (authorization rule) that signed it.</param>
public sealed record SharedAccessSignatureToken(
    string Resource,
    string EncodedResource,
    string Signature,
    string ExpiryText,
    DateTimeOffset ExpiresAt,
    string KeyName)
{
    /// <summary>True when the token has expired at <paramref name="now"/>.</summary>
    public bool IsExpired(DateTimeOffset now) => ExpiresAt <= now;

    /// <inheritdoc/>
    public override string ToString() => $"SharedAccessSignature for {Resource} (key {KeyName}, expires {ExpiresAt:O})";
}
