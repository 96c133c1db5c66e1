using System.Collections.Frozen;

namespace Causeway.Connectors;

/// <summary>
/// Connection parameter values looked up by name regardless of case, as the credential and the policies of one call read
/// them. Pure and thread-safe.
/// </summary>
internal static class ConnectionValueMap
{
    /// <summary>
    /// The values as a case-insensitive map that nothing can change during the call: a frozen map that already ignores
    /// case is used as it is (the platform makes one per remembered connection); anything else is copied.
    /// </summary>
    public static IReadOnlyDictionary<string, string> IgnoringCase(IReadOnlyDictionary<string, string>? values) => values switch
    {
        null => FrozenDictionary<string, string>.Empty,
        FrozenDictionary<string, string> frozen when frozen.Comparer == StringComparer.OrdinalIgnoreCase => frozen,
        _ => new Dictionary<string, string>(values, StringComparer.OrdinalIgnoreCase),
    };
}
