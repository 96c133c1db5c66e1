using System.Security.Cryptography;
using System.Text;

namespace Causeway.Security.Tests;

public sealed class MasterKeyProtectorTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"causeway-mk-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static MasterKeyProtector NewProtector() => new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Protect_RoundTrip_GivesTheValueBack()
    {
        var protector = NewProtector();

        var envelope = protector.Protect("s3cret-canary", "connection:1");

        Assert.StartsWith(MasterKeyProtector.Prefix, envelope, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", envelope, StringComparison.Ordinal);
        Assert.Equal("s3cret-canary", protector.UnprotectString(envelope, "connection:1"));
    }

    [Fact]
    public void Protect_SameValueTwice_GivesDifferentEnvelopes()
    {
        var protector = NewProtector();

        Assert.NotEqual(protector.Protect("x", "a"), protector.Protect("x", "a"));
    }

    [Fact]
    public void Protect_EmptyValue_RoundTrips()
    {
        var protector = NewProtector();

        Assert.Equal("", protector.UnprotectString(protector.Protect("", "a"), "a"));
    }

    [Fact]
    public void Unprotect_OtherAssociatedData_Throws()
    {
        var protector = NewProtector();
        var envelope = protector.Protect("value", "connection:1");

        var e = Assert.Throws<CryptographicException>(() => protector.Unprotect(envelope, "connection:2"));
        Assert.Contains("changed or belongs to other associated data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_OtherMasterKey_ThrowsNamingTheKey()
    {
        var envelope = NewProtector().Protect("value", "a");

        var e = Assert.Throws<CryptographicException>(() => NewProtector().Unprotect(envelope, "a"));
        Assert.Contains("another master key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unprotect_OneBitFlipped_Throws()
    {
        var protector = NewProtector();
        var envelope = protector.Protect("value that is long enough", "a");
        var chars = envelope.ToCharArray();
        var i = chars.Length - 3;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';

        Assert.Throws<CryptographicException>(() => protector.Unprotect(new string(chars), "a"));
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("cwe1.%%%")]
    [InlineData("cwe1.AAAA")]
    public void Unprotect_Malformed_Throws(string envelope)
    {
        Assert.Throws<CryptographicException>(() => NewProtector().Unprotect(envelope, "a"));
    }

    [Fact]
    public void LoadOrCreate_NoFile_CreatesOwnerOnlyFileAndReusesIt()
    {
        var path = Path.Combine(_folder, "master.key");

        var first = MasterKeyProtector.LoadOrCreate(path);
        var envelope = first.Protect("value", "a");
        var second = MasterKeyProtector.LoadOrCreate(path);

        Assert.Equal("value", second.UnprotectString(envelope, "a"));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(path).Trim()).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void LoadOrCreate_ShortKey_ThrowsNamingTheFile()
    {
        Directory.CreateDirectory(_folder);
        var path = Path.Combine(_folder, "master.key");
        File.WriteAllText(path, Convert.ToBase64String(Encoding.ASCII.GetBytes("short")));

        var e = Assert.Throws<InvalidDataException>(() => MasterKeyProtector.LoadOrCreate(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_WrongKeyLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => new MasterKeyProtector(new byte[16]));
    }
}
