using System.Text.Json;
using Causeway.Bus;
using Causeway.Security;

namespace Causeway.Gateway;

/// <summary>
/// What API management needs from the gateway component for gateway connections: the tenant's cluster, its geography,
/// sealing credentials for the cluster's key (this server holds no key that opens them) and sending requests to a
/// member through the <see cref="GatewayRouter"/>. Thread-safe.
/// </summary>
public sealed class GatewayConnections(GatewayStore store, GatewayRouter router, GatewayOptions options, TimeProvider time)
{
    /// <summary>How long a request through the gateway may take (<c>Gateway:RequestTimeout</c>).</summary>
    public TimeSpan RequestTimeout => options.RequestTimeout;

    /// <summary>The tenant's cluster, or null (also when it belongs to another tenant).</summary>
    public Task<GatewayCluster?> FindClusterAsync(Guid tenantId, Guid clusterId, CancellationToken cancellationToken) =>
        store.FindClusterAsync(tenantId, clusterId, cancellationToken);

    /// <summary>True when the cluster serves <paramref name="geography"/> (the environment's).</summary>
    public static bool Serves(GatewayCluster cluster, string geography)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return string.Equals(cluster.Geography, geography, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Seals <paramref name="clear"/> for the cluster's private key, bound to the cluster as data-source credentials are,
    /// so the agent opens both the same way. The caller should clear its copy of the plain text afterwards.
    /// </summary>
    public static string Seal(GatewayCluster cluster, ReadOnlySpan<byte> clear)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        using var key = GatewayEnvelope.ImportPublicKey(cluster.PublicKey);
        return GatewayEnvelope.Seal(key, clear, GatewayOperations.CredentialsAssociatedData(cluster.Id));
    }

    /// <summary>Why the cluster cannot take a request now (no member online; the message names the cluster), or null when a member is online.</summary>
    public async Task<string?> UnavailableReasonAsync(GatewayCluster cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var (online, registered) = await router.CountOnlineAsync(cluster, cancellationToken);
        return online > 0
            ? null
            : $"Gateway cluster '{cluster.Name}' has no member online ({registered} registered); start an agent of the cluster ('causeway-gateway run').";
    }

    /// <summary>
    /// Sends <paramref name="body"/> (serialized as web JSON) to a member of the cluster, with the request timeout as its
    /// deadline. Dispose the response to free the member's concurrency slot.
    /// </summary>
    /// <exception cref="GatewayUnavailableException">No member online or all at their limit; the message names the cluster.</exception>
    /// <exception cref="BusException">The member failed the request (the message is safe to show).</exception>
    public Task<IBusResponse> SendAsync<T>(GatewayCluster cluster, string operation, T body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var request = new BusRequest(operation, JsonSerializer.SerializeToUtf8Bytes(body, GatewayApi.Web))
        {
            Deadline = time.GetUtcNow() + options.RequestTimeout,
            IdempotencyKey = idempotencyKey,
        };
        return router.SendAsync(cluster, request, cancellationToken);
    }
}
