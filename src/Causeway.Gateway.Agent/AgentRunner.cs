using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Causeway.Bus;
using Causeway.Security;

namespace Causeway.Gateway.Agent;

/// <summary>
/// <c>run</c>: keeps one outbound WebSocket (TLS 1.2+) to the server open, authenticated as this member; sends
/// heartbeats at the interval the server asks for; serves requests; reconnects after any loss with back-off
/// 0, 1, 2, 5, 10, 30 s and then every 30 s. Stops when cancelled, or when the server rejects the member credential.
/// When the server's welcome says the bus is RabbitMQ, it also consumes the cluster's queue on the broker at
/// <paramref name="brokerUri"/> (the cluster's own broker user); the WebSocket stays the control channel (heartbeats).
/// </summary>
internal sealed class AgentRunner(AgentFiles files, AgentRegistration registration, RSA privateKey, TextWriter log, Uri? brokerUri = null)
{
    internal static readonly TimeSpan[] Backoff = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly Lock _logLock = new();

    /// <summary>The back-off before attempt <paramref name="attempt"/> (0-based) after a failure.</summary>
    internal static TimeSpan DelayFor(int attempt) => Backoff[Math.Min(attempt, Backoff.Length - 1)];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trust = AgentServer.LoadTrust(registration.TrustCertificate);
        var credential = files.ReadCredential();
        // Writes carry an idempotency key: a retry after a lost reply gets the first answer instead of running twice.
        // HTTP calls of custom connectors' gateway connections first; everything else is a data-source request.
        using var http = new HttpCallHandler(registration.ClusterId, privateKey, Log,
            new DataSourceHandler(registration.ClusterId, new DataSourceConnections(registration.ClusterId, privateKey, Log), Log));
        var handler = new IdempotentHandler(http);
        await using var broker = new BrokerMember(registration, handler, brokerUri, Log);
        var server = new Uri(registration.Server);
        var endpoint = new UriBuilder(server) { Scheme = "wss", Path = "/gateway/connect" }.Uri;
        var attempt = 0;
        var since = DateTimeOffset.UtcNow;
        string? lastError = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "GatewayMember " + credential);
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors);
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.AddSubProtocol(WebSocketBusConnection.BatchingSubProtocol);
            try
            {
                using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await socket.ConnectAsync(endpoint, connectTimeout.Token);
                }

                // A server that reads batched frames settles on the subprotocol; an older one leaves it empty.
                await using var connection = new WebSocketBusConnection(socket, handler) { Batching = socket.SubProtocol == WebSocketBusConnection.BatchingSubProtocol };
                connection.UnhandledFailure = (request, e) => Log($"Request {request.CorrelationId} failed: {e.GetType().Name}: {e.Message}");
                var heartbeat = TimeSpan.FromSeconds(10);
                var welcomed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                connection.NoticeReceived = payload =>
                {
                    var notice = BusNotices.Decode<GatewayNotice>(payload);
                    if (notice is { Type: GatewayOperations.Welcome, HeartbeatSeconds: { } seconds })
                    {
                        heartbeat = TimeSpan.FromSeconds(seconds);
                        welcomed.TrySetResult();
                        if (notice.Bus == "rabbitmq")
                        {
                            broker.Ensure(notice.Concurrency ?? 40, notice.ConsumerPriority ?? 0, cancellationToken);
                        }
                    }

                    return Task.CompletedTask;
                };
                var receive = connection.RunAsync(cancellationToken);
                await connection.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Hello) { Version = Registrar.Version }), cancellationToken);
                await welcomed.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                attempt = 0;
                lastError = null;
                since = DateTimeOffset.UtcNow;
                Log($"Connected to {registration.Server} as member '{registration.MemberName}' of gateway cluster '{registration.ClusterName}'.");
                while (!receive.IsCompleted)
                {
                    await connection.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Heartbeat)
                    {
                        Version = Registrar.Version,
                        Active = connection.ActiveIncoming + broker.ActiveIncoming,
                    }), cancellationToken);
                    files.WriteStatus(new AgentStatus(true, registration.Server, Environment.ProcessId, since, DateTimeOffset.UtcNow, heartbeat.TotalSeconds, null));
                    await Task.WhenAny(receive, Task.Delay(heartbeat, cancellationToken));
                }

                lastError = "The server closed the connection.";
                Log(lastError);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (WebSocketException) when (socket.HttpStatusCode == HttpStatusCode.Unauthorized)
            {
                Log("The server rejected this member's credential (the member was removed?); register again.");
                files.WriteStatus(new AgentStatus(false, registration.Server, Environment.ProcessId, since, null, 0, "credential rejected"));
                return 1;
            }
            catch (Exception e) when (e is WebSocketException or IOException or BusException or TimeoutException or OperationCanceledException or HttpRequestException)
            {
                lastError = $"Connection to {registration.Server} failed: {e.Message}";
                Log(lastError);
            }

            var delay = DelayFor(attempt++);
            files.WriteStatus(new AgentStatus(false, registration.Server, Environment.ProcessId, since, null, 0, lastError));
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        files.WriteStatus(new AgentStatus(false, registration.Server, Environment.ProcessId, since, null, 0, "stopped"));
        return 0;
    }

    /// <summary>The member's consumer on the broker: started on the first welcome that asks for it, retried on later ones.</summary>
    private sealed class BrokerMember(AgentRegistration registration, IBusHandler handler, Uri? uri, Action<string> log) : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private Task<RabbitMqBusListener?>? _starting;

        public int ActiveIncoming => _starting is { IsCompletedSuccessfully: true, Result: { } listener } ? listener.ActiveIncoming : 0;

        public void Ensure(int concurrency, int priority, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                if (_starting is null || (_starting.IsCompleted && _starting is not { IsCompletedSuccessfully: true, Result: not null }))
                {
                    _starting = StartAsync(concurrency, priority, cancellationToken);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_starting is { } starting && await starting.ConfigureAwait(false) is { } listener)
            {
                await listener.DisposeAsync();
            }
        }

        private async Task<RabbitMqBusListener?> StartAsync(int concurrency, int priority, CancellationToken cancellationToken)
        {
            if (uri is null)
            {
                log($"The server routes requests through RabbitMQ, but this agent has no broker address: give it with --rabbitmq-uri-file FILE or ${AgentApp.BrokerUriVariable} (amqp://user:password@host:5672/vhost of the cluster's broker user).");
                return null;
            }

            try
            {
                var listener = await RabbitMqBusListener.StartAsync(new RabbitMqBusOptions { Uri = uri, ClientName = $"causeway-gateway {registration.MemberName}" },
                    GatewayQueues.ClusterQueue(registration.ClusterId), GatewayQueues.MemberControlPrefix(registration.ClusterId), handler,
                    (ushort)Math.Clamp(concurrency, 1, ushort.MaxValue), priority, cancellationToken);
                listener.UnhandledFailure = (request, e) => log($"Request {request.CorrelationId} failed: {e.GetType().Name}: {e.Message}");
                log($"Consuming the queue of gateway cluster '{registration.ClusterName}' on RabbitMQ at {uri.Host}:{uri.Port} ({concurrency} at once, priority {priority}).");
                return listener;
            }
            catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.OperationInterruptedException or IOException)
            {
                // The exception text names the endpoint or the refused resource, never the password.
                log($"RabbitMQ at {uri.Host}:{uri.Port} refused or did not answer ({e.GetType().Name}: {e.Message}); retrying at the next reconnect.");
                return null;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    private void Log(string line)
    {
        lock (_logLock)
        {
            log.WriteLine($"{DateTimeOffset.UtcNow:O} {line}");
            log.Flush();
        }
    }
}
