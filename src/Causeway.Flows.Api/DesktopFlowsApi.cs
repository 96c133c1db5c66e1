using System.Text;
using System.Text.Json;
using Causeway.Environments;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Causeway.Relay;
using Causeway.Relay.HybridConnections;
using Causeway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Causeway.Flows.Api;

/// <summary>Body of <c>POST /api/v1/environments/{id}/machines</c> (what <c>causeway-desktop register</c> sends).</summary>
/// <remarks>
/// With <c>group</c> (id or name), the machine joins that group. The group's first member also sends the group's key pair
/// (<c>groupPublicKey</c>, and <c>groupEscrowedKey</c>: the private key under the group password); later members fetch
/// the escrow and open it themselves. The password never reaches the server.
/// </remarks>
public sealed record RegisterMachineRequest(string? Name, string? PublicKey, string? Group = null, string? GroupPublicKey = null, string? GroupEscrowedKey = null);

/// <summary>Body of <c>PATCH /api/v1/environments/{id}/machines/{machineId}</c>.</summary>
public sealed record UpdateMachineRequest(bool? Maintenance);

/// <summary>Where and how a machine listens: the relay namespace, its hybrid connection and a Listen-only key (returned once).</summary>
public sealed record ListenCredentials(string Endpoint, string Path, string KeyName, string Key);

/// <summary>A machine as the API shows it (never a key).</summary>
/// <remarks><c>status</c>: <c>maintenance</c>, <c>busy</c> (a run in progress), <c>online</c> (its agent is connected to the relay) or <c>offline</c>.</remarks>
public sealed record MachineResponse(Guid Id, string Name, string Status, bool Maintenance, string PublicKey, string HybridConnection, DateTimeOffset CreatedAt,
    Guid? Group = null, string? Version = null);

/// <summary>A desktop flow as the API shows it.</summary>
public sealed record DesktopFlowResponse(Guid Id, string Name, int SchemaVersion, IReadOnlyList<VariableResponse> Inputs, IReadOnlyList<VariableResponse> Outputs,
    JsonElement Definition, DateTimeOffset CreatedAt);

/// <summary>A declared input or output.</summary>
public sealed record VariableResponse(string Name, string Type, bool Required);

/// <summary>Registration and endpoints of the desktop-flows component.</summary>
public static class DesktopFlowsApi
{
    /// <summary>The name of the Listen-only key a machine's hybrid connection gets.</summary>
    public const string ListenKeyName = "machine-listen";

    /// <summary>The name of the Send-only key the server uses to reach a machine.</summary>
    public const string SendKeyName = "server-send";

    /// <summary>
    /// Registers the stores and their schema (migrations 600-601), the run dispatcher (a hosted service) and its options,
    /// bound from the configuration section <c>DesktopFlows</c> (<see cref="DesktopRunOptions"/>).
    /// </summary>
    public static IServiceCollection AddCausewayDesktopFlows(this IServiceCollection services)
    {
        services.AddSingleton(DesktopFlowStore.Schema);
        services.AddSingleton(DesktopRunStore.Schema);
        services.AddSingleton<DesktopFlowStore>();
        services.AddSingleton<DesktopRunStore>();
        services.AddOptions<DesktopRunOptions>().BindConfiguration("DesktopFlows").Validate(
            o => !o.Validate().Any(), "DesktopFlows: QueueTimeout (at most 6 h), PollInterval and OfflineGrace must be more than zero.").ValidateOnStart();
        services.AddSingleton<DesktopRunDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<DesktopRunDispatcher>());
        return services;
    }

    /// <summary>
    /// Maps <c>/environments/{id}/desktopflows</c> and <c>/environments/{id}/machines</c> onto the authenticated API group.
    /// Reading needs a role in the environment, changing needs Environment Maker; other tenants get 404.
    /// </summary>
    public static RouteGroupBuilder MapDesktopFlowsApi(this RouteGroupBuilder api)
    {
        var flows = api.MapGroup("/environments/{environmentId:guid}/desktopflows").WithTags("Desktop flows");

        // The body is the definition itself, so that the line and column of an error point into what the caller sent.
        flows.MapPost("/", async (Guid environmentId, HttpContext context, EnvironmentService environments, DesktopFlowStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(ct);
            var errors = DesktopFlowDefinition.Validate(text);
            if (errors.Count > 0)
            {
                return Results.Problem(statusCode: 400, title: "Invalid desktop flow", detail: errors[0].ToString(), extensions: new Dictionary<string, object?>
                {
                    ["errors"] = errors.Select(e => new { path = e.Path, line = e.Position?.Line, column = e.Position?.Column, message = e.Message }).ToList(),
                });
            }

            var flow = await store.CreateFlowAsync(environment!.Id, DesktopFlowDefinition.Parse(text), ct);
            return Results.Created($"/api/v1/environments/{environmentId}/desktopflows/{flow.Id}", ToResponse(flow));
        }).WithName("CreateDesktopFlow");

        flows.MapGet("/", async (Guid environmentId, HttpContext context, EnvironmentService environments, DesktopFlowStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            return problem ?? Results.Ok((await store.ListFlowsAsync(environment!.Id, ct)).Select(ToResponse));
        }).WithName("ListDesktopFlows");

        flows.MapGet("/{flowId:guid}", async (Guid environmentId, Guid flowId, HttpContext context, EnvironmentService environments, DesktopFlowStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            return problem ?? (await store.FindFlowAsync(environment!.Id, flowId, ct) is { } flow ? Results.Ok(ToResponse(flow)) : Problems.NotFound($"Desktop flow '{flowId}'"));
        }).WithName("GetDesktopFlow");

        flows.MapDelete("/{flowId:guid}", async (Guid environmentId, Guid flowId, HttpContext context, EnvironmentService environments, DesktopFlowStore store, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            return problem ?? (await store.DeleteFlowAsync(environment!.Id, flowId, ct) ? Results.NoContent() : Problems.NotFound($"Desktop flow '{flowId}'"));
        }).WithName("DeleteDesktopFlow");

        var machines = api.MapGroup("/environments/{environmentId:guid}/machines").WithTags("Desktop flows");

        machines.MapPost("/", async (Guid environmentId, RegisterMachineRequest body, HttpContext context, EnvironmentService environments, DesktopFlowStore store,
            DesktopRunStore runs, IHybridConnectionStore relay, IOptions<RelayOptions> relayOptions, TimeProvider time, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            var errors = new Dictionary<string, string[]>();
            if (TenancyApi.CheckName(body.Name, "name") is { } nameError)
            {
                errors["name"] = [nameError];
            }

            try
            {
                using var key = GatewayEnvelope.ImportPublicKey(body.PublicKey ?? "");
            }
            catch (GatewayCryptoException e)
            {
                errors["publicKey"] = [e.Message.Replace("gateway keys", "machine keys", StringComparison.Ordinal)];
            }

            if (errors.Count > 0)
            {
                return Problems.Invalid(errors);
            }

            MachineGroup? group = null;
            if (body.Group is { } groupRef)
            {
                group = await runs.FindGroupAsync(environment!.Id, groupRef, ct);
                if (group is null)
                {
                    return Problems.Invalid("group", $"The environment has no machine group '{TenancyApi.Shorten(groupRef)}'; create it first.");
                }

                if (group.PublicKey is null)
                {
                    if (body.GroupPublicKey is null || body.GroupEscrowedKey is null)
                    {
                        return Problems.Invalid("groupPublicKey", $"Machine group '{group.Name}' has no key yet: its first member sends groupPublicKey and groupEscrowedKey.");
                    }

                    try
                    {
                        using var groupKey = GatewayEnvelope.ImportPublicKey(body.GroupPublicKey);
                    }
                    catch (GatewayCryptoException e)
                    {
                        return Problems.Invalid("groupPublicKey", e.Message.Replace("gateway keys", "group keys", StringComparison.Ordinal));
                    }
                }
                else if (body.GroupPublicKey is not null && body.GroupPublicKey.Trim() != group.PublicKey.Trim())
                {
                    return Problems.Conflict($"Machine group '{group.Name}' already has a key; join it with the group password instead of a new key.");
                }
            }

            // Checked before the hybrid connection exists, so a duplicate name leaves nothing behind on the relay.
            if (await store.MachineNameTakenAsync(environment!.Id, body.Name!, ct))
            {
                return Problems.Conflict($"The environment already has a machine named '{body.Name}'.");
            }

            if (group is { PublicKey: null } && !await runs.TrySetGroupKeyAsync(group.Id, body.GroupPublicKey!.Trim(), body.GroupEscrowedKey!, ct))
            {
                return Problems.Conflict($"Another machine just gave machine group '{group.Name}' its key; register again to join with the group password.");
            }

            var id = Guid.NewGuid();
            var listen = new AuthorizationRule(ListenKeyName, AccessRights.Listen, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey());
            var send = new AuthorizationRule(SendKeyName, AccessRights.Send, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey());
            var root = new AuthorizationRule(HybridConnection.DefaultRuleName, HybridConnection.AllRights, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey());
            var path = $"desktop-machine-{id:N}";
            var now = time.GetUtcNow();
            if (!await relay.TryCreateAsync(new HybridConnection(path, RequiresClientAuthorization: true, HttpModeEnabled: true, [root, listen, send], now), ct))
            {
                return Problems.Conflict("The machine's hybrid connection could not be created; try again.");
            }

            var machine = new Machine(id, environment.Id, body.Name!, body.PublicKey!.Trim(), path, false, now) { GroupId = group?.Id };
            try
            {
                await store.CreateMachineAsync(machine, ct);
            }
            catch
            {
                await relay.DeleteAsync(path, CancellationToken.None);
                throw;
            }

            var options = relayOptions.Value;
            return Results.Created($"/api/v1/environments/{environmentId}/machines/{id}", new
            {
                machine = ToResponse(machine, "offline", null),
                listen = new ListenCredentials($"sb://{options.PublicHostName}:{options.PublicPort}/", path, ListenKeyName, listen.PrimaryKey),
            });
        }).WithName("RegisterMachine");

        machines.MapGet("/", async (Guid environmentId, HttpContext context, EnvironmentService environments, DesktopFlowStore store, DesktopRunStore runs,
            DesktopRunDispatcher dispatcher, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var busy = await runs.BusyMachinesAsync(ct);
            var list = new List<MachineResponse>();
            foreach (var machine in await store.ListMachinesAsync(environment!.Id, ct))
            {
                list.Add(await StatusResponseAsync(machine, busy, dispatcher, ct));
            }

            return Results.Ok(list);
        }).WithName("ListMachines");

        machines.MapGet("/{machineId:guid}", async (Guid environmentId, Guid machineId, HttpContext context, EnvironmentService environments, DesktopFlowStore store,
            DesktopRunStore runs, DesktopRunDispatcher dispatcher, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            return await store.FindMachineAsync(environment!.Id, machineId, ct) is { } machine
                ? Results.Ok(await StatusResponseAsync(machine, await runs.BusyMachinesAsync(ct), dispatcher, ct))
                : Problems.NotFound($"Machine '{machineId}'");
        }).WithName("GetMachine");

        machines.MapPatch("/{machineId:guid}", async (Guid environmentId, Guid machineId, UpdateMachineRequest body, HttpContext context, EnvironmentService environments,
            DesktopFlowStore store, DesktopRunStore runs, DesktopRunDispatcher dispatcher, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (await store.FindMachineAsync(environment!.Id, machineId, ct) is not { } machine)
            {
                return Problems.NotFound($"Machine '{machineId}'");
            }

            if (body.Maintenance is { } maintenance)
            {
                await store.SetMaintenanceAsync(machine.Id, maintenance, ct);
            }

            return Results.Ok(await StatusResponseAsync((await store.FindMachineAsync(environment.Id, machineId, ct))!, await runs.BusyMachinesAsync(ct), dispatcher, ct));
        }).WithName("UpdateMachine");

        machines.MapDelete("/{machineId:guid}", async (Guid environmentId, Guid machineId, HttpContext context, EnvironmentService environments, DesktopFlowStore store,
            IHybridConnectionStore relay, DesktopRunDispatcher dispatcher, CancellationToken ct) =>
        {
            var (environment, _, problem) = await environments.AuthorizeAsync(context, environmentId, EnvironmentRole.EnvironmentMaker, ct);
            if (problem is not null)
            {
                return problem;
            }

            if (await store.FindMachineAsync(environment!.Id, machineId, ct) is not { } machine)
            {
                return Problems.NotFound($"Machine '{machineId}'");
            }

            await store.DeleteMachineAsync(machine.Id, ct);
            await relay.DeleteAsync(machine.HybridConnectionPath, ct);
            dispatcher.Forget(machine.HybridConnectionPath);
            return Results.NoContent();
        }).WithName("RemoveMachine");

        DesktopRunsApi.Map(api);
        return api;
    }

    private static DesktopFlowResponse ToResponse(StoredDesktopFlow flow)
    {
        var definition = DesktopFlowDefinition.Parse(flow.Definition);
        using var document = JsonDocument.Parse(flow.Definition, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        return new DesktopFlowResponse(flow.Id, flow.Name, DesktopFlowDefinition.CurrentSchemaVersion,
            [.. definition.Inputs.Select(ToResponse)], [.. definition.Outputs.Select(ToResponse)], document.RootElement.Clone(), flow.CreatedAt);
    }

    private static VariableResponse ToResponse(VariableDeclaration variable) => new(variable.Name, variable.Type.ToString().ToLowerInvariant(), variable.Required);

    private static async Task<MachineResponse> StatusResponseAsync(Machine machine, IReadOnlySet<Guid> busy, DesktopRunDispatcher dispatcher, CancellationToken ct)
    {
        var online = dispatcher.IsOnline(machine.HybridConnectionPath);
        var status = machine.Maintenance ? "maintenance" : busy.Contains(machine.Id) ? "busy" : online ? "online" : "offline";
        return ToResponse(machine, status, online ? await dispatcher.ProbeVersionAsync(machine, ct) : dispatcher.VersionOf(machine.Id));
    }

    private static MachineResponse ToResponse(Machine machine, string status, string? version) =>
        new(machine.Id, machine.Name, status, machine.Maintenance, machine.PublicKey, machine.HybridConnectionPath, machine.CreatedAt, machine.GroupId, version);
}
