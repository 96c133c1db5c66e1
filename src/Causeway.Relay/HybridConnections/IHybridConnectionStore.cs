namespace Causeway.Relay.HybridConnections;

/// <summary>
/// Where the relay keeps its hybrid connections. Paths compare case-insensitively. Keys are stored as they are, because
/// verifying a SAS token needs the key itself. Implementations are thread-safe.
/// </summary>
public interface IHybridConnectionStore
{
    /// <summary>The hybrid connection at <paramref name="path"/>, or null.</summary>
    Task<HybridConnection?> GetAsync(string path, CancellationToken cancellationToken);

    /// <summary>All hybrid connections, ordered by path.</summary>
    Task<IReadOnlyList<HybridConnection>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="hybridConnection"/>; false (and nothing changes) when its path is taken.</summary>
    Task<bool> TryCreateAsync(HybridConnection hybridConnection, CancellationToken cancellationToken);

    /// <summary>Removes the hybrid connection at <paramref name="path"/>; false when there was none.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken);
}
