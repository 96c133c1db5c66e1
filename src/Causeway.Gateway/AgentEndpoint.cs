using Causeway.Bus;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Causeway.Gateway;

/// <summary>
/// <c>GET /gateway/connect</c> (WebSocket over the server's TLS): where agents dial in. The agent authenticates with
/// <c>Authorization: GatewayMember gwm_...</c>, the credential issued when it registered. The server then sends a
/// welcome notice (with the heartbeat interval), records heartbeats, and drops the connection after three missed ones.
/// </summary>
internal static class AgentEndpoint
{
    public const string Path = "/gateway/connect";
    private const string Scheme = "GatewayMember ";

    public static async Task HandleAsync(HttpContext context, GatewayStore store, MemberRegistry registry, GatewayOptions options, GatewayBroker broker, TimeProvider time, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Causeway.Gateway.Agents");
        string? header = context.Request.Headers.Authorization;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem(detail: "This endpoint accepts only WebSocket connections from gateway agents.", statusCode: 400).ExecuteAsync(context);
            return;
        }

        if (header is null || !header.StartsWith(Scheme, StringComparison.Ordinal) ||
            await store.AuthenticateMemberAsync(header[Scheme.Length..].Trim(), context.RequestAborted) is not { } found)
        {
            await Results.Problem(detail: "The gateway member credential is missing or not valid (Authorization: GatewayMember <credential>).", statusCode: 401).ExecuteAsync(context);
            return;
        }

        var (member, cluster) = found;
        // An agent that reads batched frames asks for them with the subprotocol; an older one gets one frame per message.
        var batching = context.WebSockets.WebSocketRequestedProtocols.Contains(WebSocketBusConnection.BatchingSubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(batching ? WebSocketBusConnection.BatchingSubProtocol : null);
        await using var connection = new WebSocketBusConnection(socket, handler: null) { MaxMessageSize = options.MaxMessageSize, Batching = batching };
        var session = new MemberSession(member.Id, cluster.Id, member.Name, connection, time.GetUtcNow());
        connection.NoticeReceived = async payload =>
        {
            var notice = BusNotices.Decode<GatewayNotice>(payload);
            if (notice?.Type is GatewayOperations.Heartbeat or GatewayOperations.Hello)
            {
                session.LastHeartbeat = time.GetUtcNow();
                session.Version = notice.Version ?? session.Version;
                try
                {
                    await store.RecordHeartbeatAsync(member.Id, notice.Version, session.LastHeartbeat, CancellationToken.None);
                }
                catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException)
                {
                    logger.LogWarning("Recording a heartbeat of member {Member} failed: {Error}", member.Id, e.Message);
                }
            }
        };

        if (registry.Add(session) is { } previous)
        {
            await previous.Connection.CloseAsync("Replaced by a new connection of the same member.", CancellationToken.None);
        }

        logger.LogInformation("Gateway member {Member} ({Name}) of cluster {Cluster} connected", member.Id, member.Name, cluster.Id);
        try
        {
            var receive = connection.RunAsync(context.RequestAborted);
            if (broker.Enabled)
            {
                try
                {
                    // Declares the exchanges the agent's queues bind to before the agent is told to use the broker.
                    await broker.ConnectAsync(context.RequestAborted);
                }
                catch (GatewayUnavailableException e)
                {
                    logger.LogWarning("Gateway member {Member} connected while the broker is unreachable: {Error}", member.Id, e.Message);
                }
            }

            await connection.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Welcome)
            {
                ClusterId = cluster.Id,
                ClusterName = cluster.Name,
                MemberId = member.Id,
                MemberName = member.Name,
                HeartbeatSeconds = options.HeartbeatInterval.TotalSeconds,
                Bus = broker.Enabled ? GatewayOptions.RabbitMqBus : GatewayOptions.WebSocketBus,
                Concurrency = cluster.MemberConcurrencyLimit,
                // The primary (priority 1) gets the highest consumer priority, unless requests are spread over all members.
                ConsumerPriority = cluster.DistributeRequests ? 0 : -member.Priority,
            }), context.RequestAborted);

            // Watchdog: three missed heartbeats and the member is offline; drop it so that it reconnects.
            while (!receive.IsCompleted)
            {
                await Task.WhenAny(receive, Task.Delay(options.HeartbeatInterval, time, context.RequestAborted));
                if (!receive.IsCompleted && time.GetUtcNow() - session.LastHeartbeat > 3 * options.HeartbeatInterval)
                {
                    logger.LogWarning("Gateway member {Member} missed three heartbeats; dropping its connection", member.Id);
                    await connection.DisposeAsync();
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or BusException)
        {
        }
        finally
        {
            registry.Remove(session);
            logger.LogInformation("Gateway member {Member} disconnected", member.Id);
        }
    }
}
