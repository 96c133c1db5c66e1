using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Environments;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Causeway.Flows.Api;

/// <summary>Run-as credentials for one run: sealed for the target's key as soon as they arrive, never stored or shown in clear.</summary>
public sealed record RunConnectionRequest(string? UserName, string? Password)
{
    /// <inheritdoc />
    public override string ToString() => $"RunConnectionRequest {{ UserName = {UserName}, Password = *** }}";
}

/// <summary>Body of <c>POST /api/v1/environments/{id}/desktopflows/{flowId}/runs</c>: a machine or a group (id or name), never both.</summary>
public sealed record StartRunRequest(JsonElement? Inputs, string? Machine, string? Group, RunConnectionRequest? Connection, int? TimeLimitSeconds);

/// <summary>Body of <c>POST /api/v1/environments/{id}/machinegroups</c>.</summary>
public sealed record CreateMachineGroupRequest(string? Name);

/// <summary>Runs of desktop flows and machine groups.</summary>
internal static class DesktopRunsApi
{
    public const int MaxTimeLimitSeconds = 24 * 60 * 60;

    public static void Map(RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/environments/{environmentId:guid}/desktopflows/{flowId:guid}/runs").WithTags("Desktop flows");

        runs.MapPost("/", async (Guid environmentId, Guid flowId, StartRunRequest body, HttpContext context, EnvironmentService environments, DesktopFlowStore flows,
            DesktopRunStore store, DesktopRunDispatcher dispatcher, IOptions<DesktopRunOptions> options, TimeProvider time, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (await flows.FindFlowAsync(environment!.Id, flowId, ct) is not { } flow)
            {
                return Problems.NotFound($"Desktop flow '{flowId}'");
            }

            if ((body.Machine is null) == (body.Group is null))
            {
                return Problems.Invalid("machine", "Give either machine or group (an id or a name), not both and not neither.");
            }

            var inputs = body.Inputs is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } given ? given.GetRawText() : "{}";
            if (Encoding.UTF8.GetByteCount(inputs) > DesktopFlowDefinition.MaxInputBytes)
            {
                return Problems.Invalid("inputs", $"The inputs are larger than {DesktopFlowDefinition.MaxInputBytes} bytes (2 MB).");
            }

            var definition = DesktopFlowDefinition.Parse(flow.Definition);
            var supplied = JsonNode.Parse(inputs) as JsonObject;
            if (supplied is null)
            {
                return Problems.Invalid("inputs", "inputs must be a JSON object of name -> value.");
            }

            var secrets = definition.Inputs.Where(i => i.Type == VariableType.Secret).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            if (supplied.Select(p => p.Key).FirstOrDefault(secrets.Contains) is { } secretName)
            {
                return Problems.Invalid("inputs", $"'{secretName}' is a secret input: give it as the run's connection (userName, password), which only the machine can read.");
            }

            var connection = body.Connection;
            if (connection is not null)
            {
                if (connection.UserName is null || connection.Password is null)
                {
                    return Problems.Invalid("connection", "A connection needs userName and password (the password may be any secret).");
                }

                // The agent fills the flow's inputs userName and password from the connection; check them as the agent will.
                foreach (var (name, value) in new[] { ("userName", connection.UserName), ("password", connection.Password) })
                {
                    if (definition.Inputs.Any(i => i.Name == name))
                    {
                        supplied[name] = "(from the connection)";
                    }
                }
            }

            try
            {
                definition.CheckInputs(supplied.ToJsonString());
            }
            catch (DesktopFlowValidationException e)
            {
                return Results.Problem(statusCode: 400, title: "Invalid inputs", detail: e.Errors[0].ToString(), extensions: new Dictionary<string, object?>
                {
                    ["errors"] = e.Errors.Select(x => new { path = x.Path, message = x.Message }).ToList(),
                });
            }

            var limit = body.TimeLimitSeconds ?? MaxTimeLimitSeconds;
            if (limit is < 1 or > MaxTimeLimitSeconds)
            {
                return Problems.Invalid("timeLimitSeconds", $"timeLimitSeconds must be between 1 and {MaxTimeLimitSeconds} (24 h).");
            }

            Guid? machineId = null, groupId = null;
            string sealingKey;
            Guid keyId;
            if (body.Machine is { } machineRef)
            {
                var machines = await flows.ListMachinesAsync(environment.Id, ct);
                var machine = machines.FirstOrDefault(m => m.Id.ToString() == machineRef || m.Name == machineRef);
                if (machine is null)
                {
                    return Problems.Invalid("machine", $"The environment has no machine '{TenancyApi.Shorten(machineRef)}'.");
                }

                machineId = machine.Id;
                (sealingKey, keyId) = (machine.PublicKey, machine.Id);
            }
            else
            {
                var group = await store.FindGroupAsync(environment.Id, body.Group!, ct);
                if (group is null)
                {
                    return Problems.Invalid("group", $"The environment has no machine group '{TenancyApi.Shorten(body.Group!)}'.");
                }

                if (group.PublicKey is null && connection is not null)
                {
                    return Problems.Conflict($"Machine group '{group.Name}' has no key yet (no machine has joined it), so there is nothing to seal the connection for.");
                }

                groupId = group.Id;
                (sealingKey, keyId) = (group.PublicKey ?? "", group.Id);
            }

            // Sealed here, before anything is stored: the database only ever holds the envelope.
            var envelope = connection is null ? null : MachineEnvelope.Seal(sealingKey, keyId, new RunAsCredentials(connection.UserName!, connection.Password!));
            var now = time.GetUtcNow();
            var run = new DesktopRun(Guid.NewGuid(), environment.Id, flow.Id, flow.Name, flow.Definition, machineId, groupId, null, RunStatus.Queued, null, inputs,
                envelope, limit, now, now + options.Value.QueueTimeout, null, null, null, null, null, false);
            await store.CreateRunAsync(run, ct);
            dispatcher.Wake();
            return Results.Accepted($"/api/v1/environments/{environmentId}/desktopflows/{flowId}/runs/{run.Id}", await ResponseAsync(run, flows, ct));
        }).WithName("StartDesktopFlowRun").WithMetadata(new RunBodyLimit());

        runs.MapGet("/", async (Guid environmentId, Guid flowId, HttpContext context, EnvironmentService environments, DesktopFlowStore flows, DesktopRunStore store,
            int? top, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var list = await store.ListRunsAsync(environment!.Id, flowId, Math.Clamp(top ?? 50, 1, 500), ct);
            var names = (await flows.ListMachinesAsync(environment.Id, ct)).ToDictionary(m => m.Id, m => m.Name);
            return Results.Ok(list.Select(r => ToResponse(r, names, withLog: false)));
        }).WithName("ListDesktopFlowRuns");

        runs.MapGet("/{runId:guid}", async (Guid environmentId, Guid flowId, Guid runId, HttpContext context, EnvironmentService environments, DesktopFlowStore flows,
            DesktopRunStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            return await store.FindRunAsync(environment!.Id, runId, ct) is { } run && run.FlowId == flowId
                ? Results.Ok(await ResponseAsync(run, flows, ct))
                : Problems.NotFound($"Run '{runId}'");
        }).WithName("GetDesktopFlowRun");

        runs.MapPost("/{runId:guid}/cancel", async (Guid environmentId, Guid flowId, Guid runId, HttpContext context, EnvironmentService environments, DesktopFlowStore flows,
            DesktopRunStore store, DesktopRunDispatcher dispatcher, TimeProvider time, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (await store.FindRunAsync(environment!.Id, runId, ct) is not { } run || run.FlowId != flowId)
            {
                return Problems.NotFound($"Run '{runId}'");
            }

            if (RunStatus.IsFinal(run.Status) || !await store.RequestCancelAsync(environment.Id, runId, ct))
            {
                return Problems.Conflict($"Run '{runId}' already ended ({run.Status}).");
            }

            if (run.Status == RunStatus.Queued)
            {
                await store.TryFinishAsync(run.Id, RunStatus.Cancelled, "The run was cancelled before a machine took it.", time.GetUtcNow(), null, null, null, ct);
            }

            dispatcher.Wake();
            return Results.Accepted($"/api/v1/environments/{environmentId}/desktopflows/{flowId}/runs/{runId}",
                await ResponseAsync((await store.FindRunAsync(environment.Id, runId, ct))!, flows, ct));
        }).WithName("CancelDesktopFlowRun");

        var groups = api.MapGroup("/environments/{environmentId:guid}/machinegroups").WithTags("Desktop flows");

        groups.MapPost("/", async (Guid environmentId, CreateMachineGroupRequest body, HttpContext context, EnvironmentService environments, DesktopRunStore store,
            TimeProvider time, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (TenancyApi.CheckName(body.Name, "name") is { } nameError)
            {
                return Problems.Invalid("name", nameError);
            }

            var group = new MachineGroup(Guid.NewGuid(), environment!.Id, body.Name!, null, null, time.GetUtcNow());
            await store.CreateGroupAsync(group, ct);
            return Results.Created($"/api/v1/environments/{environmentId}/machinegroups/{group.Id}", GroupResponse(group, []));
        }).WithName("CreateMachineGroup");

        groups.MapGet("/", async (Guid environmentId, HttpContext context, EnvironmentService environments, DesktopRunStore store, DesktopFlowStore flows, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var machines = await flows.ListMachinesAsync(environment!.Id, ct);
            return Results.Ok((await store.ListGroupsAsync(environment.Id, ct)).Select(g => GroupResponse(g, machines)));
        }).WithName("ListMachineGroups");

        groups.MapGet("/{group}", async (Guid environmentId, string group, HttpContext context, EnvironmentService environments, DesktopRunStore store, DesktopFlowStore flows,
            CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            return await store.FindGroupAsync(environment!.Id, group, ct) is { } found
                ? Results.Ok(GroupResponse(found, await flows.ListMachinesAsync(environment.Id, ct)))
                : Problems.NotFound($"Machine group '{TenancyApi.Shorten(group)}'");
        }).WithName("GetMachineGroup");

        // What a joining member needs: the group's private key under the group password (useless without it).
        groups.MapGet("/{group}/escrow", async (Guid environmentId, string group, HttpContext context, EnvironmentService environments, DesktopRunStore store,
            CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            return await store.FindGroupAsync(environment!.Id, group, ct) is { } found
                ? Results.Ok(new { id = found.Id, name = found.Name, publicKey = found.PublicKey, escrowedKey = found.EscrowedKey })
                : Problems.NotFound($"Machine group '{TenancyApi.Shorten(group)}'");
        }).WithName("GetMachineGroupEscrow");

        groups.MapDelete("/{group}", async (Guid environmentId, string group, HttpContext context, EnvironmentService environments, DesktopRunStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (await store.FindGroupAsync(environment!.Id, group, ct) is not { } found)
            {
                return Problems.NotFound($"Machine group '{TenancyApi.Shorten(group)}'");
            }

            var members = await store.CountMembersAsync(found.Id, ct);
            if (members > 0)
            {
                return Problems.Conflict($"Machine group '{found.Name}' still has {members} machine(s); remove them first.");
            }

            await store.DeleteGroupAsync(found.Id, ct);
            return Results.NoContent();
        }).WithName("DeleteMachineGroup");
    }

    /// <summary>Room for 2 MB of inputs and the rest of the request, whatever the API's general limit.</summary>
    private sealed class RunBodyLimit : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => (DesktopFlowDefinition.MaxInputBytes * 3L / 2) + (64 * 1024);
    }

    private static object GroupResponse(MachineGroup group, IReadOnlyList<Machine> machines) => new
    {
        id = group.Id,
        name = group.Name,
        publicKey = group.PublicKey,
        members = machines.Where(m => m.GroupId == group.Id).Select(m => new { id = m.Id, name = m.Name }).ToList(),
        createdAt = group.CreatedAt,
    };

    private static async Task<object> ResponseAsync(DesktopRun run, DesktopFlowStore flows, CancellationToken ct) =>
        ToResponse(run, (await flows.ListMachinesAsync(run.EnvironmentId, ct)).ToDictionary(m => m.Id, m => m.Name), withLog: true);

    private static object ToResponse(DesktopRun run, IReadOnlyDictionary<Guid, string> machineNames, bool withLog) => new
    {
        id = run.Id,
        flowId = run.FlowId,
        flowName = run.FlowName,
        status = run.Status,
        reason = run.Reason,
        target = run.MachineId is { } m ? new { kind = "machine", id = m } : new { kind = "group", id = run.GroupId!.Value },
        machine = run.AssignedMachineId is { } assigned ? new { id = assigned, name = machineNames.GetValueOrDefault(assigned) } : null,
        inputs = JsonNode.Parse(run.Inputs),
        outputs = run.Outputs is null ? null : JsonNode.Parse(run.Outputs),
        log = withLog && run.Log is not null ? JsonNode.Parse(run.Log) : null,
        failedActionId = run.FailedActionId,
        timeLimitSeconds = run.TimeLimitSeconds,
        cancelRequested = run.CancelRequested,
        queuedAt = run.QueuedAt,
        queueDeadline = run.QueueDeadline,
        startedAt = run.StartedAt,
        endedAt = run.EndedAt,
        durationMs = run.StartedAt is { } s && run.EndedAt is { } e ? (long?)(e - s).TotalMilliseconds : null,
    };
}
