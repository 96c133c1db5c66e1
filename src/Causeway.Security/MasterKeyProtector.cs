using System.Security.Cryptography;
using System.Text;

namespace Causeway.Security;

/// <summary>
/// Envelope encryption under a master key kept in a file outside the database: every value gets its own random
/// 256-bit data key, the value is sealed with AES-256-GCM under that data key, and the data key is sealed with
/// AES-256-GCM under the master key. The associated data (for example <c>connection:{id}</c>) is bound to both
/// seals, so a ciphertext copied onto another row does not open. Thread-safe.
/// </summary>
/// <remarks>
/// Text form: <c>cwe1.</c> + base64url of <c>keyId(8) | dataKeyNonce(12) | dataKeyTag(16) | sealedDataKey(32) |
/// valueNonce(12) | valueTag(16) | sealedValue</c>. The key id is the first 8 bytes of SHA-256 of the master key:
/// it tells "wrong master key" apart from "tampered" without revealing anything about the key.
/// </remarks>
public sealed class MasterKeyProtector
{
    /// <summary>The prefix of every envelope this version writes.</summary>
    public const string Prefix = "cwe1.";

    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int KeyIdBytes = 8;
    private const int HeaderBytes = KeyIdBytes + NonceBytes + TagBytes + KeyBytes + NonceBytes + TagBytes;

    private readonly byte[] _masterKey;
    private readonly byte[] _keyId;

    /// <summary>Creates a protector over a 32-byte master key (copied).</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes.</exception>
    public MasterKeyProtector(ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != KeyBytes)
        {
            throw new ArgumentException($"The master key must be {KeyBytes} bytes (it is {masterKey.Length}).", nameof(masterKey));
        }

        _masterKey = masterKey.ToArray();
        _keyId = SHA256.HashData(_masterKey)[..KeyIdBytes];
    }

    /// <summary>
    /// Reads the master key file, or creates it (32 random bytes, base64, mode 0600 where the OS has Unix modes) when it
    /// does not exist. Idempotent: the same file gives the same key on every start.
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but does not hold a base64 32-byte key.</exception>
    public static MasterKeyProtector LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var key = RandomNumberGenerator.GetBytes(KeyBytes);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var stream = new FileStream(path, options);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
                return LoadOrCreate(path);
            }

            return new MasterKeyProtector(key);
        }

        var text = File.ReadAllText(path).Trim();
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"The master key file '{path}' must hold a base64 {KeyBytes}-byte key; restore it from backup (without it, stored connection secrets cannot be read).");
        }

        return bytes.Length == KeyBytes
            ? new MasterKeyProtector(bytes)
            : throw new InvalidDataException($"The master key file '{path}' holds {bytes.Length} bytes, not {KeyBytes}; restore it from backup.");
    }

    /// <summary>Seals <paramref name="plaintext"/> bound to <paramref name="associatedData"/>.</summary>
    public string Protect(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(associatedData);
        var aad = Encoding.UTF8.GetBytes(associatedData);
        var output = new byte[HeaderBytes + plaintext.Length];
        var span = output.AsSpan();
        _keyId.CopyTo(span);
        var keyNonce = span.Slice(KeyIdBytes, NonceBytes);
        var keyTag = span.Slice(KeyIdBytes + NonceBytes, TagBytes);
        var sealedKey = span.Slice(KeyIdBytes + NonceBytes + TagBytes, KeyBytes);
        var valueNonce = span.Slice(KeyIdBytes + NonceBytes + TagBytes + KeyBytes, NonceBytes);
        var valueTag = span.Slice(KeyIdBytes + NonceBytes + TagBytes + KeyBytes + NonceBytes, TagBytes);
        var sealedValue = span[HeaderBytes..];

        Span<byte> dataKey = stackalloc byte[KeyBytes];
        RandomNumberGenerator.Fill(dataKey);
        RandomNumberGenerator.Fill(keyNonce);
        RandomNumberGenerator.Fill(valueNonce);
        try
        {
            using (var master = new AesGcm(_masterKey, TagBytes))
            {
                master.Encrypt(keyNonce, dataKey, sealedKey, keyTag, aad);
            }

            using var data = new AesGcm(dataKey, TagBytes);
            data.Encrypt(valueNonce, plaintext, sealedValue, valueTag, aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        return Prefix + TokenHasher.Base64Url(output);
    }

    /// <summary>Seals UTF-8 text.</summary>
    public string Protect(string plaintext, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        return Protect(Encoding.UTF8.GetBytes(plaintext), associatedData);
    }

    /// <summary>Opens an envelope sealed by <see cref="Protect(ReadOnlySpan{byte}, string)"/>.</summary>
    /// <exception cref="CryptographicException">The envelope is malformed, was sealed under another master key, was changed, or belongs to other associated data. The message never holds the value.</exception>
    public byte[] Unprotect(string envelope, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(associatedData);
        if (!envelope.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CryptographicException($"The value is not an envelope of this version (it does not start with '{Prefix}').");
        }

        byte[] input;
        try
        {
            var text = envelope[Prefix.Length..].Replace('-', '+').Replace('_', '/');
            input = Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='));
        }
        catch (FormatException e)
        {
            throw new CryptographicException("The envelope is not valid base64url.", e);
        }

        if (input.Length < HeaderBytes)
        {
            throw new CryptographicException("The envelope is too short.");
        }

        ReadOnlySpan<byte> span = input;
        if (!CryptographicOperations.FixedTimeEquals(span[..KeyIdBytes], _keyId))
        {
            throw new CryptographicException("The envelope was sealed under another master key.");
        }

        var aad = Encoding.UTF8.GetBytes(associatedData);
        Span<byte> dataKey = stackalloc byte[KeyBytes];
        var plaintext = new byte[input.Length - HeaderBytes];
        try
        {
            using (var master = new AesGcm(_masterKey, TagBytes))
            {
                master.Decrypt(span.Slice(KeyIdBytes, NonceBytes), span.Slice(KeyIdBytes + NonceBytes + TagBytes, KeyBytes),
                    span.Slice(KeyIdBytes + NonceBytes, TagBytes), dataKey, aad);
            }

            using var data = new AesGcm(dataKey, TagBytes);
            data.Decrypt(span.Slice(KeyIdBytes + NonceBytes + TagBytes + KeyBytes, NonceBytes), span[HeaderBytes..],
                span.Slice(KeyIdBytes + NonceBytes + TagBytes + KeyBytes + NonceBytes, TagBytes), plaintext, aad);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new CryptographicException("The envelope was changed or belongs to other associated data.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        return plaintext;
    }

    /// <summary>Opens an envelope of UTF-8 text.</summary>
    /// <exception cref="CryptographicException">See <see cref="Unprotect(string, string)"/>.</exception>
    public string UnprotectString(string envelope, string associatedData) => Encoding.UTF8.GetString(Unprotect(envelope, associatedData));
}
