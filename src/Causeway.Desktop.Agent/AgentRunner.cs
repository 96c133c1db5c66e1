using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Flows;
using Causeway.Relay.Client;
using Causeway.Security;

namespace Causeway.Desktop.Agent;

/// <summary>
/// <c>run</c>: listens outward on the machine's hybrid connection (HTTP mode) and serves the server's requests:
/// <c>GET status</c>, <c>POST runs</c> (start a run; 409 while another runs), <c>GET runs/{id}</c>,
/// <c>POST runs/{id}/cancel</c> and <c>DELETE runs/{id}</c> (forget a finished run). Connects, and reconnects after any
/// loss, with back-off 0, 1, 2, 5, 10, 30 s and then every 30 s. Only the server holds a Send key for the hybrid
/// connection, so only it can reach these requests.
/// </summary>
internal sealed class AgentRunner(AgentFiles files, AgentRegistration registration, IReadOnlyList<string> roots, TextWriter log)
{
    internal static readonly TimeSpan[] Backoff = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    private const int FinishedKept = 32;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, string> _finished = [];
    private readonly Queue<Guid> _finishedOrder = new();
    private readonly DateTimeOffset _since = DateTimeOffset.UtcNow;
    private ActiveRun? _current;
    private string? _lastError;
    private HybridConnectionListener? _listener;

    /// <summary>The back-off before attempt <paramref name="attempt"/> (0-based) after a failure.</summary>
    internal static TimeSpan DelayFor(int attempt) => Backoff[Math.Min(attempt, Backoff.Length - 1)];

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var trust = AgentServer.LoadTrust(registration.TrustCertificate);
        var options = new RelayClientOptions
        {
            RemoteCertificateValidation = (_, certificate, chain, errors) => trust.Validate(certificate, chain, errors),
            ReconnectDelays = Backoff,
            KeepAliveInterval = TimeSpan.FromSeconds(15),
        };
        await using var listener = new HybridConnectionListener(new Uri(registration.RelayEndpoint), registration.HybridConnection, registration.ListenKeyName,
            files.ReadListenKey(), options)
        {
            RequestHandler = HandleAsync,
        };
        _listener = listener;
        Log($"causeway-desktop {Registrar.Version}: machine '{registration.MachineName}' of environment '{registration.EnvironmentName}'; roots: " +
            (roots.Count == 0 ? "none (file actions are refused)" : string.Join(", ", roots)));

        // The first connection: the listener reconnects by itself after that.
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await listener.OpenAsync(cancellationToken);
                _lastError = null;
                Log($"Listening on {registration.RelayEndpoint}{registration.HybridConnection}.");
                break;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (RelayException e) when (e.StatusCode is 401 or 403 or 404)
            {
                Log($"The relay refused this machine ({e.StatusCode}): it was removed or its key changed; register it again.");
                WriteStatus("machine refused by the relay");
                return 1;
            }
            catch (Exception e) when (e is RelayException or System.Net.WebSockets.WebSocketException or HttpRequestException or IOException)
            {
                _lastError = $"Connection to the relay failed: {e.Message}";
                Log(_lastError);
            }

            WriteStatus(_lastError);
            try
            {
                await Task.Delay(DelayFor(attempt++), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        var wasOnline = listener.IsOnline;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (listener.IsOnline != wasOnline)
            {
                wasOnline = listener.IsOnline;
                Log(wasOnline ? "Reconnected to the relay." : $"Lost the relay connection (close status {listener.LastCloseStatus?.ToString() ?? "none"}); reconnecting.");
            }

            WriteStatus(wasOnline ? null : "reconnecting");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (_current is { } running)
        {
            await running.Cancel.CancelAsync();
            await running.Task.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        await listener.CloseAsync();
        WriteStatus("stopped", connected: false);
        return 0;
    }

    private void WriteStatus(string? error, bool? connected = null)
    {
        files.WriteStatus(new AgentStatus(connected ?? _listener?.IsOnline ?? false, registration.RelayEndpoint, Environment.ProcessId, Registrar.Version, _since,
            DateTimeOffset.UtcNow, _current?.Id, _listener?.ReconnectCount ?? 0, error));
    }

    private async Task<RelayedHttpResponse> HandleAsync(RelayedHttpRequest request, CancellationToken cancellationToken)
    {
        var target = request.RequestTarget.Split('?')[0].Trim('/');
        var prefix = registration.HybridConnection.Trim('/');
        if (target.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            target = target[prefix.Length..].Trim('/');
        }

        var segments = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            return (request.Method.ToUpperInvariant(), segments) switch
            {
                ("GET", ["status"]) => Answer(200, StatusBody()),
                ("POST", ["runs"]) => Start(request.Body),
                ("GET", ["runs", var id]) => Get(id),
                ("POST", ["runs", var id, "cancel"]) => await CancelAsync(id),
                ("DELETE", ["runs", var id]) => Forget(id),
                _ => Problem(404, $"No such request: {request.Method} /{target}"),
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            return Problem(400, $"The request could not be read: {e.GetType().Name}.");
        }
    }

    private JsonObject StatusBody()
    {
        lock (_lock)
        {
            return new JsonObject
            {
                ["state"] = _current is null ? "idle" : "busy",
                ["runId"] = _current?.Id,
                ["machineId"] = registration.MachineId,
                ["version"] = Registrar.Version,
            };
        }
    }

    private RelayedHttpResponse Start(ReadOnlyMemory<byte> body)
    {
        var request = JsonNode.Parse(Encoding.UTF8.GetString(body.Span))!.AsObject();
        var runId = Guid.Parse(request["runId"]!.GetValue<string>());
        ActiveRun run;
        lock (_lock)
        {
            if (_current is { } busy)
            {
                return busy.Id == runId ? Answer(202, StatusBody()) : Problem(409, $"This machine is busy with run {busy.Id}.");
            }

            if (_finished.ContainsKey(runId))
            {
                return Answer(202, StatusBody());
            }

            run = new ActiveRun(runId, new CancellationTokenSource());
            _current = run;
        }

        Log($"Run {runId} of '{request["flowName"]?.GetValue<string>()}' started.");
        run.Task = Task.Run(() => ExecuteAsync(run, request));
        return Answer(202, StatusBody());
    }

    private async Task ExecuteAsync(ActiveRun run, JsonObject request)
    {
        string result;
        try
        {
            result = await RunFlowAsync(request, run.Cancel.Token);
        }
        catch (Exception e)
        {
            // Nothing a flow does reaches here (the runner turns action failures into a failed result); this is the agent's own fault.
            result = Failure($"The agent failed to run the flow: {e.GetType().Name}.");
        }

        lock (_lock)
        {
            _finished[run.Id] = result;
            _finishedOrder.Enqueue(run.Id);
            while (_finishedOrder.Count > FinishedKept && _finishedOrder.TryDequeue(out var old))
            {
                _finished.Remove(old);
            }

            _current = null;
        }

        var status = JsonNode.Parse(result)?["status"]?.GetValue<string>();
        Log($"Run {run.Id} ended: {status}.");
    }

    private async Task<string> RunFlowAsync(JsonObject request, CancellationToken cancellationToken)
    {
        DesktopFlowDefinition definition;
        try
        {
            definition = DesktopFlowDefinition.Parse(request["definition"]!.GetValue<string>());
        }
        catch (DesktopFlowValidationException e)
        {
            return Failure($"This agent cannot read the flow: {e.Message}");
        }

        var inputs = request["inputs"] as JsonObject ?? [];
        if (request["connection"] is JsonObject connection)
        {
            RunAsCredentials credentials;
            try
            {
                credentials = Open(connection);
            }
            catch (Exception e) when (e is GatewayCryptoException or AgentException)
            {
                return Failure($"This machine cannot open the run's connection: {e.Message}");
            }

            if (definition.Inputs.Any(i => i.Name == "userName"))
            {
                inputs["userName"] = credentials.UserName;
            }

            if (definition.Inputs.Any(i => i.Name == "password"))
            {
                inputs["password"] = credentials.Password;
            }
        }

        var options = new DesktopFlowRunnerOptions();
        foreach (var root in roots)
        {
            options.Roots.Add(root);
        }

        var limit = TimeSpan.FromSeconds(Math.Clamp(request["timeLimitSeconds"]?.GetValue<int>() ?? 86_400, 1, 86_400));
        try
        {
            var result = await new DesktopFlowRunner(options).RunAsync(definition, inputs.ToJsonString(), cancellationToken, limit);
            return DesktopFlowRunner.Serialize(result);
        }
        catch (DesktopFlowValidationException e)
        {
            return Failure($"The inputs do not fit the flow: {e.Message}");
        }
    }

    private RunAsCredentials Open(JsonObject connection)
    {
        var keyId = Guid.Parse(connection["keyId"]!.GetValue<string>());
        var envelope = connection["envelope"]!.GetValue<string>();
        if (connection["sealedFor"]?.GetValue<string>() == "group")
        {
            if (registration.GroupId != keyId)
            {
                throw new AgentException("it was sealed for a machine group this machine is not in.");
            }

            using var groupKey = files.ReadGroupKey() ?? throw new AgentException("this machine holds no group key.");
            return MachineEnvelope.Open(groupKey, keyId, envelope);
        }

        using var machineKey = files.ReadMachineKey();
        return MachineEnvelope.Open(machineKey, keyId, envelope);
    }

    private static string Failure(string error)
    {
        var now = DateTimeOffset.UtcNow;
        return JsonSerializer.Serialize(new { status = "Failed", outputs = new JsonObject(), log = Array.Empty<object>(), error, failedActionId = (string?)null, startedAt = now, endedAt = now, logTruncated = false }, Json);
    }

    private RelayedHttpResponse Get(string id)
    {
        var runId = Guid.Parse(id);
        lock (_lock)
        {
            if (_current?.Id == runId)
            {
                return Answer(200, new JsonObject { ["state"] = "running", ["version"] = Registrar.Version });
            }

            return _finished.TryGetValue(runId, out var result)
                ? Answer(200, new JsonObject { ["state"] = "finished", ["result"] = JsonNode.Parse(result), ["version"] = Registrar.Version })
                : Problem(404, $"This machine has no run {runId}.");
        }
    }

    private async Task<RelayedHttpResponse> CancelAsync(string id)
    {
        var runId = Guid.Parse(id);
        ActiveRun? run;
        lock (_lock)
        {
            run = _current?.Id == runId ? _current : null;
        }

        if (run is null)
        {
            bool known;
            lock (_lock)
            {
                known = _finished.ContainsKey(runId);
            }

            return known ? Answer(200, StatusBody()) : Problem(404, $"This machine has no run {runId}.");
        }

        Log($"Run {runId}: cancel requested.");
        await run.Cancel.CancelAsync();
        return Answer(202, StatusBody());
    }

    private RelayedHttpResponse Forget(string id)
    {
        lock (_lock)
        {
            _finished.Remove(Guid.Parse(id));
        }

        return new RelayedHttpResponse(204);
    }

    private static RelayedHttpResponse Answer(int status, JsonNode body) =>
        new(status, Encoding.UTF8.GetBytes(body.ToJsonString(Json))) { Headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" } };

    private static RelayedHttpResponse Problem(int status, string detail) =>
        Answer(status, new JsonObject { ["status"] = status, ["detail"] = detail, ["version"] = Registrar.Version });

    private void Log(string line)
    {
        lock (_lock)
        {
            log.WriteLine($"{DateTimeOffset.UtcNow:O} {line}");
            log.Flush();
        }
    }

    private sealed class ActiveRun(Guid id, CancellationTokenSource cancel)
    {
        public Guid Id { get; } = id;

        public CancellationTokenSource Cancel { get; } = cancel;

        public Task Task { get; set; } = Task.CompletedTask;
    }
}
