using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Platform;
using Causeway.Relay;
using Causeway.Relay.Client;
using Causeway.Relay.HybridConnections;
using Causeway.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Causeway.Flows.Api;

/// <summary>How desktop flow runs are queued and watched. Configuration section <c>DesktopFlows</c>.</summary>
public sealed class DesktopRunOptions
{
    /// <summary>How long a run waits in the queue for an available machine before it ends as timed out. Default 6 h.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often the dispatcher looks at the queue and asks machines how their runs are going. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a machine running a run may stay unreachable (its listener gone) before the run fails. Covers the agent's
    /// reconnect back-off after a network blip. Default 60 s.
    /// </summary>
    public TimeSpan OfflineGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest a run may wait in the queue: 6 hours.</summary>
    public static readonly TimeSpan MaxQueueTimeout = TimeSpan.FromHours(6);

    /// <summary>One message per wrong setting, naming it.</summary>
    public IEnumerable<string> Validate()
    {
        if (QueueTimeout <= TimeSpan.Zero || QueueTimeout > MaxQueueTimeout)
        {
            yield return $"DesktopFlows:QueueTimeout must be more than zero and at most 06:00:00 (it is {QueueTimeout}).";
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            yield return $"DesktopFlows:PollInterval must be more than zero (it is {PollInterval}).";
        }

        if (OfflineGrace <= TimeSpan.Zero)
        {
            yield return $"DesktopFlows:OfflineGrace must be more than zero (it is {OfflineGrace}).";
        }
    }
}

/// <summary>
/// Hands queued runs to available machines through the relay (HTTP mode on each machine's hybrid connection, signed with
/// the server's Send-only key) and follows them until they end: one run at a time per machine, group members sharing
/// the group's queue, oldest run first. A run is marked running before it is sent; a machine that refuses it (busy,
/// just went offline) puts it back in the queue. Runs live only in the platform database, so a restarted server picks
/// up where it was. Thread-safe; one instance per server.
/// </summary>
public sealed partial class DesktopRunDispatcher(
    DesktopRunStore runs,
    IHybridConnectionStore relay,
    RelayListeners listeners,
    IOptions<RelayOptions> relayOptions,
    IOptions<DesktopRunOptions> options,
    PlatformOptions platform,
    TimeProvider time,
    ILogger<DesktopRunDispatcher> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<Guid, Task> _following = new();
    private readonly ConcurrentDictionary<string, HybridConnectionClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Guid, string> _versions = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _refusedUntil = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private CertificateTrust? _trust;

    /// <summary>Makes the dispatcher look at the queue now (a run was queued or cancelled).</summary>
    public void Wake() => _wake.Release();

    /// <summary>The agent version a machine last reported, if it has talked to this server.</summary>
    public string? VersionOf(Guid machineId) => _versions.TryGetValue(machineId, out var version) ? version : null;

    /// <summary>True when a listener is connected on the machine's hybrid connection.</summary>
    public bool IsOnline(string hybridConnectionPath) => listeners.IsConnected(hybridConnectionPath);

    /// <summary>Asks an online machine for its status (and so its version); null when it does not answer within 5 s.</summary>
    public async Task<string?> ProbeVersionAsync(Machine machine, CancellationToken cancellationToken)
    {
        if (VersionOf(machine.Id) is not null || !IsOnline(machine.HybridConnectionPath))
        {
            return VersionOf(machine.Id);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var (status, body) = await SendAsync(machine.HybridConnectionPath, machine.Id, HttpMethod.Get, "status", null, timeout.Token);
            return status == HttpStatusCode.OK ? body?["version"]?.GetValue<string>() : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or RelayException or JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                Log.TickFailed(logger, e);
            }

            try
            {
                await _wake.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(_following.Values).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _wake.Dispose();
        base.Dispose();
    }

    private async Task TickAsync(CancellationToken stoppingToken)
    {
        var active = await runs.ListActiveRunsAsync(stoppingToken);
        var busy = active.Where(r => r.Status == RunStatus.Running && r.AssignedMachineId is not null).Select(r => r.AssignedMachineId!.Value).ToHashSet();
        var now = time.GetUtcNow();
        foreach (var run in active)
        {
            if (run.Status == RunStatus.Running)
            {
                // A running run nobody follows (the server restarted): follow it again.
                Follow(run, stoppingToken);
                continue;
            }

            if (run.CancelRequested)
            {
                await FinishAsync(run.Id, RunStatus.Cancelled, "The run was cancelled before a machine took it.", null, stoppingToken);
                continue;
            }

            var candidates = await runs.CandidatesAsync(run, stoppingToken);
            if (now >= run.QueueDeadline)
            {
                await FinishAsync(run.Id, RunStatus.TimedOut, QueueTimeoutReason(run, candidates, busy), null, stoppingToken);
                continue;
            }

            var chosen = candidates.FirstOrDefault(c => !c.Maintenance && !busy.Contains(c.Id) && listeners.IsConnected(c.Path) && !RecentlyRefused(c.Id, now));
            if (chosen.Path is null || !await runs.TryStartAsync(run.Id, chosen.Id, now, stoppingToken))
            {
                continue;
            }

            busy.Add(chosen.Id);
            Follow(run with { Status = RunStatus.Running, AssignedMachineId = chosen.Id, StartedAt = now }, stoppingToken);
        }
    }

    private bool RecentlyRefused(Guid machineId, DateTimeOffset now) => _refusedUntil.TryGetValue(machineId, out var until) && until > now;

    private string QueueTimeoutReason(DesktopRun run, IReadOnlyList<(Guid Id, string Path, bool Maintenance)> candidates, HashSet<Guid> busy)
    {
        var (one, all) = run.MachineId is not null ? ("its machine was", "its machine was") : ("its group had", "every machine of its group was");
        var why = candidates.Count == 0 ? (run.MachineId is not null ? "its machine was removed" : "its group had no machines")
            : candidates.All(c => c.Maintenance) ? $"{all} in maintenance"
            : candidates.All(c => c.Maintenance || !listeners.IsConnected(c.Path)) ? $"{all} offline (no agent connected)"
            : candidates.All(c => c.Maintenance || !listeners.IsConnected(c.Path) || busy.Contains(c.Id)) ? $"{all} busy with other runs"
            : $"{one} no available machine";
        return $"No machine took the run within the queue timeout ({Describe(options.Value.QueueTimeout)}): {why}.";
    }

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1 && span.TotalHours == Math.Floor(span.TotalHours) ? $"{span.TotalHours:0} h" : $"{span.TotalSeconds:0.###} s";

    private void Follow(DesktopRun run, CancellationToken stoppingToken)
    {
        if (_following.ContainsKey(run.Id))
        {
            return;
        }

        var task = new TaskCompletionSource();
        if (!_following.TryAdd(run.Id, task.Task))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await FollowAsync(run, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The server is stopping: the run stays running in the database and is followed again after the restart.
            }
            catch (Exception e)
            {
                Log.FollowFailed(logger, run.Id, e);
            }
            finally
            {
                _following.TryRemove(run.Id, out _);
                task.TrySetResult();
                Wake();
            }
        }, CancellationToken.None);
    }

    private async Task FollowAsync(DesktopRun run, CancellationToken stoppingToken)
    {
        var machineId = run.AssignedMachineId!.Value;
        var path = await runs.MachinePathAsync(machineId, stoppingToken);
        if (path is null)
        {
            await FinishAsync(run.Id, RunStatus.Failed, "The machine the run was sent to was removed.", null, stoppingToken);
            return;
        }

        // Hand the run over, unless the machine already has it (the server restarted while it ran).
        var (status, body) = await TrySendAsync(path, machineId, HttpMethod.Get, $"runs/{run.Id}", null, stoppingToken);
        if (status != HttpStatusCode.OK)
        {
            var request = new JsonObject
            {
                ["runId"] = run.Id,
                ["flowName"] = run.FlowName,
                ["definition"] = run.Definition,
                ["inputs"] = JsonNode.Parse(run.Inputs),
                ["timeLimitSeconds"] = run.TimeLimitSeconds,
                ["connection"] = run.ConnectionEnvelope is null ? null : new JsonObject
                {
                    ["envelope"] = run.ConnectionEnvelope,
                    ["sealedFor"] = run.MachineId is not null ? "machine" : "group",
                    ["keyId"] = (run.MachineId ?? run.GroupId)!.Value,
                },
            };
            (status, body) = await TrySendAsync(path, machineId, HttpMethod.Post, "runs", request, stoppingToken);
            if (status is HttpStatusCode.Conflict or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout or null)
            {
                // Busy with something else, or gone between the check and the send: back to the queue.
                // Offered nothing for a while, so that a machine busy with a run this server does not know of is not asked again at once.
                Log.Requeued(logger, run.Id, machineId, status is null ? "unreachable" : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
                _refusedUntil[machineId] = time.GetUtcNow() + TimeSpan.FromSeconds(5);
                await runs.RequeueAsync(run.Id, stoppingToken);
                return;
            }

            if (status != HttpStatusCode.Accepted)
            {
                var detail = body?["detail"]?.GetValue<string>() ?? $"status {(int)status}";
                await FinishAsync(run.Id, RunStatus.Failed, $"The machine refused the run: {detail}", null, stoppingToken);
                return;
            }

            Log.Dispatched(logger, run.Id, machineId);
        }

        var lastSeen = time.GetUtcNow();
        var cancelSent = false;
        while (true)
        {
            await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            var current = await runs.GetRunAsync(run.Id, stoppingToken);
            if (current is null || RunStatus.IsFinal(current.Status))
            {
                return;
            }

            if (current.CancelRequested && !cancelSent)
            {
                var (cancelStatus, _) = await TrySendAsync(path, machineId, HttpMethod.Post, $"runs/{run.Id}/cancel", new JsonObject(), stoppingToken);
                cancelSent = cancelStatus is HttpStatusCode.Accepted or HttpStatusCode.OK;
            }

            (status, body) = await TrySendAsync(path, machineId, HttpMethod.Get, $"runs/{run.Id}", null, stoppingToken);
            if (status == HttpStatusCode.OK && body is not null)
            {
                lastSeen = time.GetUtcNow();
                if (body["state"]?.GetValue<string>() == "finished" && body["result"] is JsonObject result)
                {
                    await FinishFromResultAsync(run.Id, result, stoppingToken);
                    await TrySendAsync(path, machineId, HttpMethod.Delete, $"runs/{run.Id}", null, stoppingToken);
                    return;
                }
            }
            else if (status == HttpStatusCode.NotFound)
            {
                await FinishAsync(run.Id, RunStatus.Failed, "The machine no longer knows the run: its agent was restarted while the run was in progress.", null, stoppingToken);
                return;
            }
            else if (time.GetUtcNow() - lastSeen >= options.Value.OfflineGrace)
            {
                await FinishAsync(run.Id, RunStatus.Failed,
                    $"The machine went offline during the run: its agent did not answer for {Describe(options.Value.OfflineGrace)} (stopped, killed or disconnected).", null, stoppingToken);
                return;
            }
        }
    }

    private async Task FinishFromResultAsync(Guid runId, JsonObject result, CancellationToken cancellationToken)
    {
        var status = result["status"]?.GetValue<string>() switch
        {
            "Succeeded" => RunStatus.Succeeded,
            "Cancelled" => RunStatus.Cancelled,
            "TimedOut" => RunStatus.TimedOut,
            _ => RunStatus.Failed,
        };
        var reason = result["error"]?.GetValue<string>();
        await runs.TryFinishAsync(runId, status, reason, time.GetUtcNow(), result["outputs"]?.ToJsonString(), result["log"]?.ToJsonString(),
            result["failedActionId"]?.GetValue<string>(), cancellationToken);
        Log.Finished(logger, runId, status);
    }

    private async Task FinishAsync(Guid runId, string status, string reason, string? log, CancellationToken cancellationToken)
    {
        if (await runs.TryFinishAsync(runId, status, reason, time.GetUtcNow(), null, log, null, cancellationToken))
        {
            Log.Finished(logger, runId, status);
        }
    }

    private async Task<(HttpStatusCode? Status, JsonNode? Body)> TrySendAsync(string path, Guid machineId, HttpMethod method, string relative, JsonNode? body,
        CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            return await SendAsync(path, machineId, method, relative, body, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or RelayException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (null, null);
        }
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(string path, Guid machineId, HttpMethod method, string relative, JsonNode? body,
        CancellationToken cancellationToken)
    {
        var client = await ClientAsync(path, cancellationToken) ?? throw new RelayException(404, $"The hybrid connection '{path}' no longer exists.");
        using var request = new HttpRequestMessage(method, new Uri(relative, UriKind.Relative)) { Content = body is null ? null : JsonContent.Create(body, options: Json) };
        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var node = text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null;
        if (node?["version"]?.GetValue<string>() is { } version)
        {
            _versions[machineId] = version;
        }

        return (response.StatusCode, node);
    }

    private async Task<HybridConnectionClient?> ClientAsync(string path, CancellationToken cancellationToken)
    {
        if (_clients.TryGetValue(path, out var existing))
        {
            return existing;
        }

        var hybridConnection = await relay.GetAsync(path, cancellationToken);
        var rule = hybridConnection?.AuthorizationRules.FirstOrDefault(r => r.KeyName == DesktopFlowsApi.SendKeyName);
        if (rule is null)
        {
            return null;
        }

        _trust ??= CertificateTrust.FromFile(Path.Combine(platform.DataDirectory, "certificate.pem") is var pem && File.Exists(pem) ? pem : null);
        var trust = _trust;
        var relaySettings = relayOptions.Value;
        var client = new HybridConnectionClient(new Uri($"https://{relaySettings.PublicHostName}:{relaySettings.PublicPort}/"), path, rule.KeyName, rule.PrimaryKey,
            new RelayClientOptions { RemoteCertificateValidation = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors) });
        if (!_clients.TryAdd(path, client))
        {
            client.Dispose();
        }

        return _clients[path];
    }

    /// <summary>Drops the cached relay client of a removed machine.</summary>
    internal void Forget(string path)
    {
        if (_clients.TryRemove(path, out var client))
        {
            client.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Desktop flow run {RunId} sent to machine {MachineId}.")]
        public static partial void Dispatched(ILogger logger, Guid runId, Guid machineId);

        [LoggerMessage(LogLevel.Information, "Desktop flow run {RunId} went back to the queue: machine {MachineId} answered {Answer}.")]
        public static partial void Requeued(ILogger logger, Guid runId, Guid machineId, string answer);

        [LoggerMessage(LogLevel.Information, "Desktop flow run {RunId} ended: {Status}.")]
        public static partial void Finished(ILogger logger, Guid runId, string status);

        [LoggerMessage(LogLevel.Warning, "The desktop flow dispatcher failed one round; it tries again.")]
        public static partial void TickFailed(ILogger logger, Exception exception);

        [LoggerMessage(LogLevel.Error, "Following desktop flow run {RunId} failed.")]
        public static partial void FollowFailed(ILogger logger, Guid runId, Exception exception);
    }
}
