namespace Causeway.Topology;

/// <summary>The kinds of scale group the seed names.</summary>
public enum ScaleGroupKind
{
    /// <summary>Receives releases first; hosts early-release environments.</summary>
    Canary,

    /// <summary>Hosts sandbox, developer and trial environments.</summary>
    Sandbox,

    /// <summary>Hosts production and default environments.</summary>
    Production,
}

/// <summary>The environment types of the platform (platform-facts §4).</summary>
public enum EnvironmentType
{
    /// <summary>Production workloads.</summary>
    Production,

    /// <summary>One per tenant, cannot be deleted.</summary>
    Default,

    /// <summary>Copy/reset playground.</summary>
    Sandbox,

    /// <summary>Expires after 30 days.</summary>
    Trial,

    /// <summary>For its owner only.</summary>
    Developer,
}

/// <summary>A scale group: shared infrastructure in one datacenter that hosts many environments, each with its own database.</summary>
/// <param name="Name">Unique name across the deployment, for example <c>westeurope-prod-1</c>.</param>
/// <param name="Datacenter">The region id of the datacenter the group lives in.</param>
/// <param name="Kind">Canary, sandbox or production.</param>
/// <param name="Capacity">How many environments it may host.</param>
public sealed record ScaleGroup(string Name, string Datacenter, ScaleGroupKind Kind, int Capacity);

/// <summary>Parsing and naming helpers for scale group kinds and environment types.</summary>
public static class TopologyNames
{
    /// <summary>The lower-case wire name of a kind (<c>production</c>).</summary>
    public static string ToWire(this ScaleGroupKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The lower-case wire name of an environment type (<c>sandbox</c>).</summary>
    public static string ToWire(this EnvironmentType type) => type.ToString().ToLowerInvariant();

    /// <summary>Parses a kind, ignoring case; false for anything else (numbers included).</summary>
    public static bool TryParseKind(string? text, out ScaleGroupKind kind) => TryParseName(text, out kind);

    /// <summary>Parses an environment type, ignoring case; false for anything else (numbers included).</summary>
    public static bool TryParseType(string? text, out EnvironmentType type) => TryParseName(text, out type);

    private static bool TryParseName<T>(string? text, out T value)
        where T : struct, Enum
    {
        value = default;
        return !string.IsNullOrWhiteSpace(text) && !char.IsAsciiDigit(text[0]) && text.All(char.IsAsciiLetter) && Enum.TryParse(text, ignoreCase: true, out value);
    }
}
