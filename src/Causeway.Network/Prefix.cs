using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Causeway.Network;

/// <summary>An IPv4 prefix in CIDR form (<c>203.0.113.0/29</c>). Microsoft peering advertises IPv4 prefixes only here.</summary>
public readonly record struct Ipv4Prefix(uint Network, int Length)
{
    /// <summary>Parses <c>a.b.c.d/n</c>; host bits must be zero.</summary>
    public static bool TryParse(string text, out Ipv4Prefix prefix, out string? error)
    {
        prefix = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
            || text[..slash].Count(c => c == '.') != 3
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > 32)
        {
            error = $"'{text}' is not an IPv4 prefix in CIDR form (for example 203.0.113.0/29)";
            return false;
        }

        var network = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        if ((network & ~Mask(length)) != 0)
        {
            error = $"'{text}' has host bits set; did you mean {Format(network & Mask(length), length)}?";
            return false;
        }

        prefix = new Ipv4Prefix(network, length);
        error = null;
        return true;
    }

    /// <summary>True for RFC 1918 private space (10/8, 172.16/12, 192.168/16), which Microsoft peering does not accept.</summary>
    public bool IsPrivate =>
        Within(0x0A000000, 8) || Within(0xAC100000, 12) || Within(0xC0A80000, 16);

    /// <summary>True for the default route (0.0.0.0/0), which Microsoft peering does not accept.</summary>
    public bool IsDefault => Length == 0;

    /// <summary>The last address of the prefix.</summary>
    public uint Last => Network | ~Mask(Length);

    /// <summary>True when the two prefixes share any address.</summary>
    public bool Overlaps(Ipv4Prefix other)
    {
        var length = Math.Min(Length, other.Length);
        return (Network & Mask(length)) == (other.Network & Mask(length));
    }

    /// <inheritdoc/>
    public override string ToString() => Format(Network, Length);

    private bool Within(uint network, int length) => Length >= length && (Network & Mask(length)) == network;

    private static uint Mask(int length) => length == 0 ? 0 : uint.MaxValue << (32 - length);

    private static string Format(uint network, int length) =>
        $"{network >> 24}.{(network >> 16) & 0xFF}.{(network >> 8) & 0xFF}.{network & 0xFF}/{length}";
}

/// <summary>BGP community values in the <c>ASN:value</c> form ExpressRoute uses (<c>12076:51002</c>).</summary>
public static class Community
{
    /// <summary>True for two 16-bit decimal numbers separated by a colon.</summary>
    public static bool IsWellFormed(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2 && parts.All(p => p.Length is > 0 and <= 5 && p.All(char.IsAsciiDigit)
            && int.Parse(p, CultureInfo.InvariantCulture) <= ushort.MaxValue);
    }
}
