namespace Causeway.Network;

/// <summary>What a site originates towards the platform.</summary>
public enum TrafficKind
{
    /// <summary>People using apps and the environment API from browsers and clients.</summary>
    Users,

    /// <summary>Members of on-premises data gateway clusters.</summary>
    Gateways,

    /// <summary>Desktop machines that run desktop flows.</summary>
    Machines,
}

/// <summary>ExpressRoute SKU tier: how far from the peering location the circuit reaches.</summary>
public enum CircuitSku
{
    /// <summary>Only the Azure regions of the peering location's metro.</summary>
    Local,

    /// <summary>Every Azure region of the peering location's geopolitical area.</summary>
    Standard,

    /// <summary>Every Azure region of the cloud.</summary>
    Premium,
}

/// <summary>The Azure cloud a circuit belongs to; sovereign geographies need their own cloud's circuit.</summary>
public enum AzureCloud
{
    /// <summary>Azure public (commercial) cloud.</summary>
    Public,

    /// <summary>Azure Government (US).</summary>
    UsGov,
}

/// <summary>Access of a route filter rule; ExpressRoute only supports Allow.</summary>
public enum RouteFilterAccess
{
    /// <summary>Advertise the prefixes tagged with the rule's communities.</summary>
    Allow,

    /// <summary>Not supported by ExpressRoute route filters; reported as a finding.</summary>
    Deny,
}

/// <summary>An on-premises location that originates traffic to the platform.</summary>
/// <param name="Name">Unique site name.</param>
/// <param name="Traffic">Kinds of traffic the site originates.</param>
/// <param name="PublicPrefixes">Public IPv4 prefixes the site's traffic leaves from (NAT pools).</param>
/// <param name="InternetBreakout">True when the site can reach the public internet directly.</param>
public sealed record Site(string Name, IReadOnlyList<TrafficKind> Traffic, IReadOnlyList<string> PublicPrefixes, bool InternetBreakout)
{
    /// <summary>Where the site is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>One allow (or, wrongly, deny) rule of a route filter.</summary>
public sealed record RouteFilterRule(RouteFilterAccess Access, IReadOnlyList<string> Communities)
{
    /// <summary>Rule name; the artifacts use <c>allow-power-platform</c> when none is given.</summary>
    public string? Name { get; init; }
}

/// <summary>A route filter attached to a circuit's Microsoft peering.</summary>
public sealed record RouteFilter(string Name, IReadOnlyList<RouteFilterRule> Rules)
{
    /// <summary>Every community an Allow rule admits.</summary>
    public IEnumerable<string> AllowedCommunities =>
        Rules.Where(r => r.Access == RouteFilterAccess.Allow).SelectMany(r => r.Communities);
}

/// <summary>The Microsoft peering of a circuit, the only peering Power Platform traffic uses.</summary>
public sealed record MicrosoftPeering(long CustomerAsn, IReadOnlyList<string> AdvertisedPublicPrefixes, RouteFilter? RouteFilter)
{
    /// <summary>VLAN of the peering, when known (the artifacts take it as a parameter otherwise).</summary>
    public int? VlanId { get; init; }

    /// <summary>Primary link /30, when known.</summary>
    public string? PrimaryPeerAddressPrefix { get; init; }

    /// <summary>Secondary link /30, when known.</summary>
    public string? SecondaryPeerAddressPrefix { get; init; }
}

/// <summary>An ExpressRoute circuit from a site to a peering location.</summary>
/// <param name="Name">Unique circuit name (the Azure resource name).</param>
/// <param name="Site">The site it connects.</param>
/// <param name="PeeringLocation">Peering (meet-me) location, for example <c>Amsterdam</c>.</param>
/// <param name="Region">Azure region of the circuit resource near the peering location, for example <c>westeurope</c>.</param>
/// <param name="Sku">SKU tier.</param>
/// <param name="BandwidthMbps">Bandwidth in Mbps.</param>
/// <param name="MicrosoftPeering">The Microsoft peering, or null when the circuit has none.</param>
public sealed record Circuit(
    string Name,
    string Site,
    string PeeringLocation,
    string Region,
    CircuitSku Sku,
    int BandwidthMbps,
    MicrosoftPeering? MicrosoftPeering)
{
    /// <summary>Connectivity provider, informational.</summary>
    public string? Provider { get; init; }

    /// <summary>Azure cloud of the circuit.</summary>
    public AzureCloud Cloud { get; init; } = AzureCloud.Public;

    /// <summary>Resource group used in the generated commands; a placeholder when not given.</summary>
    public string? ResourceGroup { get; init; }

    /// <summary>Where the circuit is declared, when read from a file.</summary>
    public SourcePosition? Position { get; init; }
}

/// <summary>
/// A network file: the customer's sites and ExpressRoute circuits. Immutable; safe to share between threads.
/// </summary>
public sealed record NetworkDocument(IReadOnlyList<Site> Sites, IReadOnlyList<Circuit> Circuits)
{
    /// <summary>Bandwidths ExpressRoute circuits are offered in (S1 facts §2).</summary>
    public static readonly IReadOnlyList<int> Bandwidths = [50, 100, 200, 500, 1000, 2000, 5000, 10000];

    /// <summary>Reads a network file; YAML unless the extension is <c>.json</c>.</summary>
    /// <exception cref="NetworkFileException">The file is malformed, does not match the schema or refers to unknown names.</exception>
    public static NetworkDocument Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path), SourceNode.FormatOf(path), Path.GetFileName(path));
    }

    /// <summary>Parses network file text (for example a request body).</summary>
    /// <exception cref="NetworkFileException">The text is malformed, does not match the schema or refers to unknown names.</exception>
    public static NetworkDocument Parse(string text, DocumentFormat format, string fileName = "network")
    {
        ArgumentNullException.ThrowIfNull(text);
        var document = DocumentReader.ReadNetwork(SourceNode.Parse(text, format, fileName));
        document.Validate();
        return document;
    }

    /// <summary>
    /// Checks names, references, communities and prefixes; documents built in memory should call it before planning
    /// (<see cref="Planner.Plan"/> does).
    /// </summary>
    /// <exception cref="NetworkFileException">The first problem found, with its position when known.</exception>
    public void Validate()
    {
        var sites = new Dictionary<string, Site>(StringComparer.Ordinal);
        var claimed = new List<(Ipv4Prefix Prefix, Site Site)>();
        foreach (var site in Sites)
        {
            if (!sites.TryAdd(site.Name, site))
            {
                throw new NetworkFileException($"site '{site.Name}' is declared twice", site.Position);
            }

            foreach (var text in site.PublicPrefixes)
            {
                var prefix = ParsePrefix(text, site.Position);
                if (prefix.IsPrivate || prefix.IsDefault)
                {
                    throw new NetworkFileException(
                        $"site '{site.Name}' lists {text} as a public prefix, but it is {(prefix.IsDefault ? "the default route" : "private (RFC 1918) space")}",
                        site.Position);
                }

                claimed.Add((prefix, site));
            }
        }

        CheckOverlaps(claimed);

        var circuits = new HashSet<string>(StringComparer.Ordinal);
        foreach (var circuit in Circuits)
        {
            if (!circuits.Add(circuit.Name))
            {
                throw new NetworkFileException($"circuit '{circuit.Name}' is declared twice", circuit.Position);
            }

            if (!sites.ContainsKey(circuit.Site))
            {
                throw new NetworkFileException(
                    $"circuit '{circuit.Name}' refers to unknown site '{circuit.Site}' (known: {string.Join(", ", sites.Keys)})", circuit.Position);
            }

            if (!Bandwidths.Contains(circuit.BandwidthMbps))
            {
                throw new NetworkFileException(
                    $"circuit '{circuit.Name}' has bandwidth {circuit.BandwidthMbps} Mbps; ExpressRoute offers {string.Join(", ", Bandwidths)}", circuit.Position);
            }

            if (circuit.MicrosoftPeering is { } peering)
            {
                ValidatePeering(circuit, peering);
            }
        }
    }

    /// <summary>Sorting by first address finds every overlap between neighbours: O(n log n) for large estates.</summary>
    private static void CheckOverlaps(List<(Ipv4Prefix Prefix, Site Site)> claimed)
    {
        var ordered = claimed.Select((c, i) => (c.Prefix, c.Site, Index: i)).OrderBy(c => c.Prefix.Network).ThenBy(c => c.Prefix.Length).ToArray();
        (Ipv4Prefix Prefix, Site Site, int Index)? widest = null;
        var clashes = new List<((Ipv4Prefix Prefix, Site Site, int Index) First, (Ipv4Prefix Prefix, Site Site, int Index) Second)>();
        foreach (var current in ordered)
        {
            if (widest is { } w && w.Prefix.Overlaps(current.Prefix))
            {
                clashes.Add(w.Index < current.Index ? (w, current) : (current, w));
            }

            if (widest is null || current.Prefix.Last > widest.Value.Prefix.Last)
            {
                widest = current;
            }
        }

        if (clashes.Count > 0)
        {
            // Report the clash declared earliest in the file, naming the earlier site as the one overlapped.
            var (first, second) = clashes.OrderBy(c => c.Second.Index).First();
            throw new NetworkFileException(
                $"prefix {second.Prefix} of site '{second.Site.Name}' overlaps {first.Prefix} of site '{first.Site.Name}'", second.Site.Position);
        }
    }

    private static void ValidatePeering(Circuit circuit, MicrosoftPeering peering)
    {
        if (peering.CustomerAsn is < 1 or > uint.MaxValue || peering.CustomerAsn == 12076)
        {
            throw new NetworkFileException(
                $"circuit '{circuit.Name}' has customer ASN {peering.CustomerAsn}; it must be 1-4294967295 and not Microsoft's 12076", circuit.Position);
        }

        var advertised = new List<Ipv4Prefix>();
        foreach (var text in peering.AdvertisedPublicPrefixes)
        {
            var prefix = ParsePrefix(text, circuit.Position);
            var clash = advertised.FirstOrDefault(p => p.Overlaps(prefix));
            if (advertised.Any(p => p.Overlaps(prefix)))
            {
                throw new NetworkFileException($"advertised prefix {text} of circuit '{circuit.Name}' overlaps {clash}", circuit.Position);
            }

            advertised.Add(prefix);
        }

        foreach (var community in peering.RouteFilter?.Rules.SelectMany(r => r.Communities) ?? [])
        {
            if (!Community.IsWellFormed(community))
            {
                throw new NetworkFileException(
                    $"'{community}' in the route filter of circuit '{circuit.Name}' is not a BGP community (expected ASN:value, for example 12076:51002)",
                    circuit.Position);
            }
        }
    }

    private static Ipv4Prefix ParsePrefix(string text, SourcePosition? position) =>
        Ipv4Prefix.TryParse(text, out var prefix, out var error) ? prefix : throw new NetworkFileException(error!, position);
}
