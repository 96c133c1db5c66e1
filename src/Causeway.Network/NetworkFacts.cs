using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Causeway.Network;

/// <summary>
/// The planner's own facts (embedded <c>network-facts.json</c>): geopolitical areas for the Standard SKU, Local regions per
/// peering location, Microsoft peering limits and platform endpoint patterns. Immutable; safe to share between threads.
/// </summary>
internal sealed class NetworkFacts
{
    private static readonly Lazy<NetworkFacts> DefaultFacts = new(Load);

    private readonly FrozenDictionary<string, GeopoliticalArea> _areaByRegion;
    private readonly FrozenDictionary<(AzureCloud, string), (GeopoliticalArea Area, bool Unverified)> _areaByLocation;
    private readonly FrozenDictionary<string, string[]> _localRegions;

    private NetworkFacts(FactsFile file)
    {
        Sources = file.Sources;
        Areas = file.GeopoliticalAreas.Select(a => new GeopoliticalArea(a.Id, a.Name, ParseCloud(a.Cloud), a.Regions, a.Source)).ToArray();
        _areaByRegion = Areas.SelectMany(a => a.Regions.Select(r => (r, a))).ToFrozenDictionary(x => x.r, x => x.a, StringComparer.OrdinalIgnoreCase);
        var byLocation = new Dictionary<(AzureCloud, string), (GeopoliticalArea, bool)>();
        foreach (var (entry, area) in file.GeopoliticalAreas.Zip(Areas))
        {
            foreach (var location in entry.Locations)
            {
                byLocation[(area.Cloud, Normalize(location))] = (area, false);
            }

            foreach (var location in entry.UnverifiedLocations ?? [])
            {
                byLocation[(area.Cloud, Normalize(location))] = (area, true);
            }
        }

        _areaByLocation = byLocation.ToFrozenDictionary();
        _localRegions = file.LocalRegions.ByLocation.ToFrozenDictionary(kv => Normalize(kv.Key), kv => kv.Value);
        MaxPrefixesPerSession = file.MicrosoftPeering.MaxPrefixesPerSession;
        Endpoints = file.Endpoints.Select(e => new EndpointFact(e.Purpose, e.HostTemplate, e.Ports, e.Source, e.Unverified, e.Description))
            .ToFrozenDictionary(e => e.Purpose, StringComparer.Ordinal);
    }

    public static NetworkFacts Default => DefaultFacts.Value;

    public IReadOnlyDictionary<string, string> Sources { get; }

    public IReadOnlyList<GeopoliticalArea> Areas { get; }

    public int MaxPrefixesPerSession { get; }

    public FrozenDictionary<string, EndpointFact> Endpoints { get; }

    public GeopoliticalArea? AreaOfRegion(string region) => _areaByRegion.GetValueOrDefault(region);

    /// <summary>The geopolitical area of a peering location in a cloud; Unverified when the location is inferred, not listed.</summary>
    public (GeopoliticalArea Area, bool Unverified)? AreaOfLocation(AzureCloud cloud, string location) =>
        _areaByLocation.TryGetValue((cloud, Normalize(location)), out var found) ? found : null;

    /// <summary>Regions ExpressRoute Local reaches from the location; empty when Local is not offered there.</summary>
    public IReadOnlyList<string> LocalRegionsOf(string location) => _localRegions.GetValueOrDefault(Normalize(location)) ?? [];

    public bool IsKnownLocation(string location) =>
        _localRegions.ContainsKey(Normalize(location)) || _areaByLocation.Keys.Any(k => k.Item2 == Normalize(location));

    private static string Normalize(string location) =>
        new string(location.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();

    private static AzureCloud ParseCloud(string cloud) => cloud == "usgov" ? AzureCloud.UsGov : AzureCloud.Public;

    private static NetworkFacts Load()
    {
        using var stream = typeof(NetworkFacts).Assembly.GetManifestResourceStream("Causeway.Network.network-facts.json")
            ?? throw new InvalidOperationException("The embedded network-facts.json is missing from Causeway.Network.");
        var file = JsonSerializer.Deserialize(stream, FactsJsonContext.Default.FactsFile)
            ?? throw new InvalidOperationException("network-facts.json is empty.");
        return new NetworkFacts(file);
    }

    internal sealed record FactsFile(
        Dictionary<string, string> Sources, AreaEntry[] GeopoliticalAreas, LocalRegionsEntry LocalRegions, PeeringEntry MicrosoftPeering, EndpointEntry[] Endpoints);

    internal sealed record AreaEntry(string Id, string Name, string Cloud, string Source, string[] Regions, string[] Locations, string[]? UnverifiedLocations);

    internal sealed record LocalRegionsEntry(string Source, Dictionary<string, string[]> ByLocation);

    internal sealed record PeeringEntry(int MaxPrefixesPerSession, string Source);

    internal sealed record EndpointEntry(string Purpose, string HostTemplate, string[] Ports, string Source, bool Unverified, string Description);
}

/// <summary>A geopolitical area: a Standard circuit reaches every region of the area of its peering location.</summary>
internal sealed record GeopoliticalArea(string Id, string Name, AzureCloud Cloud, IReadOnlyList<string> Regions, string Source);

/// <summary>A platform endpoint pattern and the ports a site's firewall must open to it.</summary>
internal sealed record EndpointFact(string Purpose, string HostTemplate, IReadOnlyList<string> Ports, string Source, bool Unverified, string Description);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(NetworkFacts.FactsFile))]
internal sealed partial class FactsJsonContext : JsonSerializerContext;
