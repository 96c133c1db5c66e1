using System.Collections.Concurrent;
using Causeway.Bus;

namespace Causeway.Gateway;

/// <summary>No member of a cluster can take a request; the message names the cluster and says why.</summary>
public sealed class GatewayUnavailableException(string message) : Exception(message);

/// <summary>
/// Picks the member that serves a request: the primary (lowest priority number) first, then the next online one; with
/// <see cref="GatewayCluster.DistributeRequests"/> the starting member rotates over all online members. A member at its
/// concurrency limit is skipped; a member whose connection drops before it answers is skipped and the request goes to
/// the next (failover). With the RabbitMQ bus the request goes to the cluster's queue instead of the member's own
/// connection (the broker hands it to a member with room, primary first); the limits above are still counted here, so
/// all members at their limit is still a 503. Thread-safe.
/// </summary>
public sealed class GatewayRouter(GatewayStore store, MemberRegistry registry, GatewayBroker broker)
{
    private readonly ConcurrentDictionary<Guid, int> _rotation = new();

    /// <summary>Sends the request to one member and returns its response, which holds a concurrency slot until disposed.</summary>
    /// <exception cref="GatewayUnavailableException">Every member is offline or at its limit.</exception>
    /// <exception cref="BusException">The member that took the request failed it.</exception>
    public async Task<IBusResponse> SendAsync(GatewayCluster cluster, BusRequest request, CancellationToken cancellationToken)
    {
        var members = await store.RoutingMembersAsync(cluster.Id, cancellationToken);
        var online = members.Select(m => registry.Find(m.Id)).Where(registry.IsOnline).Select(s => s!).ToList();
        if (online.Count == 0)
        {
            throw new GatewayUnavailableException($"Gateway cluster '{cluster.Name}' has no member online ({members.Count} registered); start an agent of the cluster ('causeway-gateway run').");
        }

        if (cluster.DistributeRequests && online.Count > 1)
        {
            var start = (int)((uint)_rotation.AddOrUpdate(cluster.Id, 0, (_, n) => n + 1) % (uint)online.Count);
            online = [.. online.Skip(start), .. online.Take(start)];
        }

        var busy = 0;
        BusException? lost = null;
        foreach (var session in online)
        {
            if (!session.TryAcquire(cluster.MemberConcurrencyLimit))
            {
                busy++;
                continue;
            }

            try
            {
                var response = broker.Enabled
                    ? await (await broker.ClientAsync(cluster, cancellationToken)).SendAsync(request, cancellationToken)
                    : await session.Connection.SendAsync(request, cancellationToken);
                return new SlotResponse(response, session);
            }
            catch (BusException e) when (e.Kind == BusErrorKind.Disconnected)
            {
                // Not answered: try the next member (through the broker, another member may take it).
                lost = e;
                session.Release();
            }
            catch
            {
                session.Release();
                throw;
            }
        }

        throw new GatewayUnavailableException(busy == online.Count
            ? $"Every online member of gateway cluster '{cluster.Name}' is at its limit of {cluster.MemberConcurrencyLimit} concurrent requests; retry later."
            : broker.Enabled && lost is not null
                ? $"Gateway cluster '{cluster.Name}' did not answer through the message broker: {lost.Message}"
                : $"Gateway cluster '{cluster.Name}' has no member that answered; the members disconnected.");
    }

    /// <summary>How many members of the cluster are online now, and how many are registered.</summary>
    public async Task<(int Online, int Registered)> CountOnlineAsync(GatewayCluster cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var members = await store.RoutingMembersAsync(cluster.Id, cancellationToken);
        return (members.Count(m => registry.IsOnline(registry.Find(m.Id))), members.Count);
    }

    private sealed class SlotResponse(IBusResponse inner, MemberSession session) : IBusResponse
    {
        private int _released;

        public int Status => inner.Status;

        public ReadOnlyMemory<byte> Head => inner.Head;

        public Stream Body => inner.Body;

        public ReadOnlyMemory<byte>? WholeBody => inner.WholeBody;

        public async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                session.Release();
            }
        }
    }
}
