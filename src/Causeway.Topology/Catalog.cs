using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Causeway.Topology;

/// <summary>One datacenter (an Azure region) of a geography's pair.</summary>
/// <param name="Id">Azure region name, for example <c>westeurope</c>.</param>
/// <param name="Name">Display name, for example <c>West Europe</c>.</param>
/// <param name="BgpCommunity">The regional ExpressRoute BGP community (<c>12076:51002</c>), or null where none is documented.</param>
/// <param name="Unverified">True when the public documentation does not confirm this datacenter or its community.</param>
public sealed record Datacenter(string Id, string Name, string? BgpCommunity, bool Unverified);

/// <summary>A Power Platform geography ("region" in the seed): a pair of datacenters that together serve its environments.</summary>
public sealed record Geography(
    string Id,
    string Name,
    IReadOnlyList<Datacenter> Datacenters,
    string EnvironmentHostSuffix,
    bool HostSuffixUnverified,
    bool Sovereign,
    int? ReleaseStation,
    string? Notes,
    IReadOnlyList<string> Sources)
{
    /// <summary>True when both datacenters of the pair are known; only such a geography can host environments.</summary>
    public bool HasPair => Datacenters.Count == 2;

    /// <summary>The communities a route filter must allow for this geography, in datacenter order; unknown ones are left out.</summary>
    public IEnumerable<string> BgpCommunities => Datacenters.Select(d => d.BgpCommunity).OfType<string>();
}

/// <summary>A Microsoft service community of ExpressRoute's Microsoft peering (Entra ID, Exchange Online, ...).</summary>
public sealed record ServiceCommunity(string Id, string Name, string Community, bool NeedsAuthorization, string Source);

/// <summary>
/// The catalog of every geography the platform knows, read from the embedded <c>geographies.json</c>.
/// Immutable and safe to share between threads.
/// </summary>
public sealed class TopologyCatalog
{
    private static readonly Lazy<TopologyCatalog> DefaultCatalog = new(Load);

    private readonly FrozenDictionary<string, Geography> _byId;

    private TopologyCatalog(IReadOnlyList<Geography> geographies, IReadOnlyList<ServiceCommunity> services, IReadOnlyDictionary<string, string> sources)
    {
        Geographies = geographies;
        ServiceCommunities = services;
        Sources = sources;
        _byId = geographies.ToFrozenDictionary(g => g.Id, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The catalog shipped with Causeway.</summary>
    public static TopologyCatalog Default => DefaultCatalog.Value;

    /// <summary>Every geography, in catalog order.</summary>
    public IReadOnlyList<Geography> Geographies { get; }

    /// <summary>Microsoft service communities (Entra ID, Microsoft 365, ...).</summary>
    public IReadOnlyList<ServiceCommunity> ServiceCommunities { get; }

    /// <summary>Short source names (S1, S2, ...) and the public page each stands for.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>Finds a geography by id, ignoring case; null when there is none.</summary>
    public Geography? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Every geography that has the datacenter (a datacenter may serve more than one geography).</summary>
    public IEnumerable<Geography> GeographiesOf(string datacenterId) =>
        Geographies.Where(g => g.Datacenters.Any(d => string.Equals(d.Id, datacenterId, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Finds a datacenter by region id, ignoring case.</summary>
    public Datacenter? FindDatacenter(string id) =>
        Geographies.SelectMany(g => g.Datacenters).FirstOrDefault(d => string.Equals(d.Id, id, StringComparison.OrdinalIgnoreCase));

    private static TopologyCatalog Load()
    {
        using var stream = typeof(TopologyCatalog).Assembly.GetManifestResourceStream("Causeway.Topology.geographies.json")
            ?? throw new InvalidOperationException("The embedded geographies.json is missing from Causeway.Topology.");
        var file = JsonSerializer.Deserialize(stream, CatalogJsonContext.Default.CatalogFile)
            ?? throw new InvalidOperationException("geographies.json is empty.");
        var geographies = file.Geographies.Select(g => new Geography(
            g.Id,
            g.Name,
            g.Datacenters.Select(d => new Datacenter(d.Id, d.Name, d.Community, d.Unverified)).ToArray(),
            g.HostSuffix,
            g.HostSuffixUnverified,
            g.Sovereign,
            g.ReleaseStation,
            g.Notes,
            g.Sources)).ToArray();
        var services = file.ServiceCommunities.Select(s => new ServiceCommunity(s.Id, s.Name, s.Community, s.NeedsAuthorization, s.Source)).ToArray();
        return new TopologyCatalog(geographies, services, file.Sources);
    }

    internal sealed record CatalogFile(Dictionary<string, string> Sources, GeographyEntry[] Geographies, ServiceEntry[] ServiceCommunities);

    internal sealed record GeographyEntry(
        string Id, string Name, string HostSuffix, bool HostSuffixUnverified, bool Sovereign, int? ReleaseStation,
        string? Notes, string[] Sources, DatacenterEntry[] Datacenters);

    internal sealed record DatacenterEntry(string Id, string Name, string? Community, bool Unverified);

    internal sealed record ServiceEntry(string Id, string Name, string Community, bool NeedsAuthorization, string Source);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(TopologyCatalog.CatalogFile))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
