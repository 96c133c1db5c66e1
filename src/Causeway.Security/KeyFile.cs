using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Security;

/// <summary>
/// A gateway cluster's private key protected by the recovery key the administrator chose: PBKDF2-HMAC-SHA256 (random
/// 16-byte salt, <see cref="DefaultIterations"/> iterations) derives an AES-256-GCM key that encrypts the PKCS#8 key.
/// The same text is the agent's key file (mode 0600) and the copy escrowed in the cloud, which the cloud cannot open
/// because it never sees the recovery key. All members are thread-safe.
/// </summary>
public static class KeyFile
{
    /// <summary>Iterations for new files (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Files asking for fewer iterations are refused, so a tampered copy cannot weaken the derivation.</summary>
    public const int MinimumIterations = 100_000;

    /// <summary>The shortest recovery key accepted.</summary>
    public const int MinimumRecoveryKeyLength = 8;

    private const string Format = "causeway-gateway-key/1";
    private const int SaltSize = 16;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Null when the recovery key is acceptable, otherwise why not.</summary>
    public static string? CheckRecoveryKey(string? recoveryKey) =>
        string.IsNullOrEmpty(recoveryKey) || recoveryKey.Length < MinimumRecoveryKeyLength
            ? $"The recovery key must have at least {MinimumRecoveryKeyLength} characters."
            : null;

    /// <summary>Protects <paramref name="privateKey"/> under <paramref name="recoveryKey"/>; returns the key file's text (JSON).</summary>
    /// <exception cref="ArgumentException">The recovery key is too short, or too few iterations.</exception>
    public static string Protect(RSA privateKey, string recoveryKey, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (CheckRecoveryKey(recoveryKey) is { } problem)
        {
            throw new ArgumentException(problem, nameof(recoveryKey));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        var secret = privateKey.ExportPkcs8PrivateKey();
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var key = Derive(recoveryKey, salt, iterations);
        try
        {
            var ciphertext = new byte[secret.Length];
            var tag = new byte[TagSize];
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, secret, ciphertext, tag, Encoding.UTF8.GetBytes(Format));
            return new JsonObject
            {
                ["format"] = Format,
                ["kdf"] = "pbkdf2-sha256",
                ["iterations"] = iterations,
                ["salt"] = Convert.ToBase64String(salt),
                ["nonce"] = Convert.ToBase64String(nonce),
                ["tag"] = Convert.ToBase64String(tag),
                ["ciphertext"] = Convert.ToBase64String(ciphertext),
            }.ToJsonString();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Opens a key file with the recovery key and returns the RSA private key.</summary>
    /// <exception cref="GatewayCryptoException">The recovery key is wrong, or the text is not a key file (or was altered).</exception>
    public static RSA Unprotect(string keyFile, string recoveryKey)
    {
        ArgumentNullException.ThrowIfNull(keyFile);
        ArgumentNullException.ThrowIfNull(recoveryKey);
        byte[] salt, nonce, tag, ciphertext;
        int iterations;
        try
        {
            var json = JsonNode.Parse(keyFile)?.AsObject() ?? throw new GatewayCryptoException("The key file is empty.");
            if ((string?)json["format"] != Format || (string?)json["kdf"] != "pbkdf2-sha256")
            {
                throw new GatewayCryptoException($"The key file is not in the {Format} format.");
            }

            iterations = (int?)json["iterations"] ?? 0;
            salt = Convert.FromBase64String((string?)json["salt"] ?? "");
            nonce = Convert.FromBase64String((string?)json["nonce"] ?? "");
            tag = Convert.FromBase64String((string?)json["tag"] ?? "");
            ciphertext = Convert.FromBase64String((string?)json["ciphertext"] ?? "");
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new GatewayCryptoException("The key file is damaged (not the JSON this program writes).", e);
        }

        if (iterations < MinimumIterations || salt.Length != SaltSize || nonce.Length != NonceSize || tag.Length != TagSize || ciphertext.Length == 0)
        {
            throw new GatewayCryptoException($"The key file is damaged or too weak (at least {MinimumIterations} iterations are required).");
        }

        var key = Derive(recoveryKey, salt, iterations);
        var secret = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(nonce, ciphertext, tag, secret, Encoding.UTF8.GetBytes(Format));
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(secret, out _);
            return rsa;
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new GatewayCryptoException("The recovery key is wrong (or the key file was altered).", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Writes the key file so that only its owner can read it (mode 0600, set before any byte is written).</summary>
    public static void Save(string path, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyFile);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(keyFile));
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static byte[] Derive(string recoveryKey, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(recoveryKey), salt, iterations, HashAlgorithmName.SHA256, 32);
}
