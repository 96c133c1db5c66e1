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
/// </summary>
internal sealed class AgentRunner(AgentFiles files, AgentRegistration registration, RSA privateKey, TextWriter log)
{
    internal static readonly TimeSpan[] Backoff = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private readonly Lock _logLock = new();

    /// <summary>The back-off before attempt <paramref name="attempt"/> (0-based) after a failure.</summary>
    internal static TimeSpan DelayFor(int attempt) => Backoff[Math.Min(attempt, Backoff.Length - 1)];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trust = Registrar.LoadTrust(registration.TrustCertificate);
        var credential = files.ReadCredential();
        var handler = new DataSourceHandler(registration.ClusterId, privateKey, Log);
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
            try
            {
                using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                    await socket.ConnectAsync(endpoint, connectTimeout.Token);
                }

                await using var connection = new WebSocketBusConnection(socket, handler);
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
                        Active = connection.ActiveIncoming,
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

    private void Log(string line)
    {
        lock (_logLock)
        {
            log.WriteLine($"{DateTimeOffset.UtcNow:O} {line}");
            log.Flush();
        }
    }
}
