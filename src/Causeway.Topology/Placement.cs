namespace Causeway.Topology;

/// <summary>Where an environment lives: a pair of scale groups of one kind, one in each datacenter of its geography.</summary>
public sealed record PlacementDecision(ScaleGroup Primary, ScaleGroup Secondary)
{
    /// <summary>The datacenter that serves the environment.</summary>
    public string PrimaryDatacenter => Primary.Datacenter;

    /// <summary>The paired datacenter it fails over to.</summary>
    public string SecondaryDatacenter => Secondary.Datacenter;
}

/// <summary>Thrown when no scale group of the needed kind has room; the message names the geography and kind.</summary>
public sealed class CapacityExhaustedException(string message) : Exception(message);

/// <summary>
/// Chooses scale groups for new environments. Deterministic: the same topology and load always give the same answer.
/// </summary>
public static class Placement
{
    /// <summary>The kind of scale group an environment of this type lives in.</summary>
    public static ScaleGroupKind KindFor(EnvironmentType type, bool earlyRelease) => earlyRelease
        ? ScaleGroupKind.Canary
        : type switch
        {
            EnvironmentType.Production or EnvironmentType.Default => ScaleGroupKind.Production,
            _ => ScaleGroupKind.Sandbox,
        };

    /// <summary>
    /// Places an environment of <paramref name="kind"/> in <paramref name="geography"/>. The primary datacenter is the one
    /// whose scale groups of that kind have more free capacity (ties: the geography's first datacenter); in each datacenter
    /// the group with the most free room is taken (ties: declared order).
    /// </summary>
    /// <param name="topology">The deployment.</param>
    /// <param name="geography">A geography the deployment serves.</param>
    /// <param name="kind">The scale group kind.</param>
    /// <param name="load">How many environments each scale group hosts now, by name; absent means none.</param>
    /// <exception cref="CapacityExhaustedException">A datacenter of the pair has no group of that kind with room.</exception>
    public static PlacementDecision Place(DeploymentTopology topology, Geography geography, ScaleGroupKind kind, IReadOnlyDictionary<string, int> load)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(geography);
        ArgumentNullException.ThrowIfNull(load);
        if (!geography.HasPair)
        {
            throw new ArgumentException($"Geography '{geography.Id}' has no complete datacenter pair.", nameof(geography));
        }

        int Free(ScaleGroup g) => g.Capacity - load.GetValueOrDefault(g.Name);

        var candidates = geography.Datacenters
            .Select(d => topology.ScaleGroupsIn(d.Id).Where(g => g.Kind == kind).ToArray())
            .ToArray();
        var best = candidates
            .Select(groups => groups.Where(g => Free(g) > 0).OrderByDescending(Free).FirstOrDefault())
            .ToArray();
        if (best[0] is null || best[1] is null)
        {
            throw new CapacityExhaustedException(
                $"No {kind.ToWire()} scale group in geography '{geography.Id}' has room for another environment " +
                $"({string.Join(", ", geography.Datacenters.Select((d, i) => $"{d.Id}: {candidates[i].Sum(g => Math.Max(0, Free(g)))} free of {candidates[i].Sum(g => g.Capacity)}"))}).");
        }

        var freeA = candidates[0].Sum(g => Math.Max(0, Free(g)));
        var freeB = candidates[1].Sum(g => Math.Max(0, Free(g)));
        return freeB > freeA ? new PlacementDecision(best[1]!, best[0]!) : new PlacementDecision(best[0]!, best[1]!);
    }
}
