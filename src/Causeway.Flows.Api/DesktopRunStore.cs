using System.Data.Common;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;

namespace Causeway.Flows.Api;

/// <summary>The states of a desktop flow run, as the API spells them.</summary>
public static class RunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timedOut";

    /// <summary>True for a status a run never leaves.</summary>
    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled or TimedOut;
}

/// <summary>
/// One run of a desktop flow. <see cref="Definition"/> is the flow as it was when the run was queued;
/// <see cref="ConnectionEnvelope"/> holds the run's credentials sealed for the target machine's (or group's) key — the
/// cloud cannot open it. <see cref="Log"/> and <see cref="Outputs"/> are JSON text once the run ended.
/// </summary>
public sealed record DesktopRun(
    Guid Id,
    Guid EnvironmentId,
    Guid FlowId,
    string FlowName,
    string Definition,
    Guid? MachineId,
    Guid? GroupId,
    Guid? AssignedMachineId,
    string Status,
    string? Reason,
    string Inputs,
    string? ConnectionEnvelope,
    int TimeLimitSeconds,
    DateTimeOffset QueuedAt,
    DateTimeOffset QueueDeadline,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? Outputs,
    string? Log,
    string? FailedActionId,
    bool CancelRequested);

/// <summary>A machine group: machines that share a queue and a key. The private key is stored only under the group password.</summary>
public sealed record MachineGroup(Guid Id, Guid EnvironmentId, string Name, string? PublicKey, string? EscrowedKey, DateTimeOffset CreatedAt);

/// <summary>
/// Runs and machine groups in the platform database (migration 601). Reads of the API take the environment id, which
/// callers have already authorized; the dispatcher's reads span environments. Thread-safe.
/// </summary>
public sealed class DesktopRunStore(SqlDatabase database)
{
    internal static Migration Schema { get; } = new(601, "desktop flow runs and machine groups", """
        CREATE TABLE desktop_machine_groups (id TEXT PRIMARY KEY, environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
            name TEXT NOT NULL, public_key TEXT NULL, escrowed_key TEXT NULL, created_at TEXT NOT NULL, UNIQUE (environment_id, name));
        ALTER TABLE desktop_machines ADD COLUMN group_id TEXT NULL;
        CREATE TABLE desktop_flow_runs (id TEXT PRIMARY KEY, environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
            flow_id TEXT NOT NULL, flow_name TEXT NOT NULL, definition TEXT NOT NULL, machine_id TEXT NULL, group_id TEXT NULL,
            assigned_machine_id TEXT NULL, status TEXT NOT NULL, reason TEXT NULL, inputs TEXT NOT NULL, connection_envelope TEXT NULL,
            time_limit_seconds INTEGER NOT NULL, queued_at TEXT NOT NULL, queue_deadline TEXT NOT NULL, started_at TEXT NULL, ended_at TEXT NULL,
            outputs TEXT NULL, log TEXT NULL, failed_action_id TEXT NULL, cancel_requested INTEGER NOT NULL);
        CREATE INDEX desktop_flow_runs_status ON desktop_flow_runs (status, queued_at);
        CREATE INDEX desktop_flow_runs_flow ON desktop_flow_runs (environment_id, flow_id, queued_at)
        """);

    private const string RunColumns = """
        SELECT id, environment_id, flow_id, flow_name, definition, machine_id, group_id, assigned_machine_id, status, reason, inputs,
            connection_envelope, time_limit_seconds, queued_at, queue_deadline, started_at, ended_at, outputs, log, failed_action_id, cancel_requested
        FROM desktop_flow_runs
        """;

    private const string GroupColumns = "SELECT id, environment_id, name, public_key, escrowed_key, created_at FROM desktop_machine_groups";

    /// <summary>Stores a new (queued) run.</summary>
    public async Task CreateRunAsync(DesktopRun run, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, """
            INSERT INTO desktop_flow_runs (id, environment_id, flow_id, flow_name, definition, machine_id, group_id, assigned_machine_id, status, reason,
                inputs, connection_envelope, time_limit_seconds, queued_at, queue_deadline, started_at, ended_at, outputs, log, failed_action_id, cancel_requested)
            VALUES (@id, @e, @f, @fn, @d, @m, @g, NULL, @s, NULL, @i, @c, @t, @q, @qd, NULL, NULL, NULL, NULL, NULL, 0)
            """, cancellationToken,
            ("id", run.Id.ToString()), ("e", run.EnvironmentId.ToString()), ("f", run.FlowId.ToString()), ("fn", run.FlowName), ("d", run.Definition),
            ("m", run.MachineId?.ToString()), ("g", run.GroupId?.ToString()), ("s", run.Status), ("i", run.Inputs), ("c", run.ConnectionEnvelope),
            ("t", run.TimeLimitSeconds), ("q", Sql.Timestamp(run.QueuedAt)), ("qd", Sql.Timestamp(run.QueueDeadline)));
    }

    /// <summary>A run of the environment, or null.</summary>
    public async Task<DesktopRun?> FindRunAsync(Guid environmentId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{RunColumns} WHERE environment_id = @e AND id = @id", ReadRun, cancellationToken,
            ("e", environmentId.ToString()), ("id", runId.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>A run of any environment (for the dispatcher), or null.</summary>
    public async Task<DesktopRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{RunColumns} WHERE id = @id", ReadRun, cancellationToken, ("id", runId.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>The runs of one flow, newest first (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<DesktopRun>> ListRunsAsync(Guid environmentId, Guid flowId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{RunColumns} WHERE environment_id = @e AND flow_id = @f ORDER BY queued_at DESC LIMIT {limit}", ReadRun,
            cancellationToken, ("e", environmentId.ToString()), ("f", flowId.ToString()));
    }

    /// <summary>Every run that is queued or running, oldest first (the dispatcher's work list).</summary>
    public async Task<IReadOnlyList<DesktopRun>> ListActiveRunsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{RunColumns} WHERE status IN ('queued', 'running') ORDER BY queued_at", ReadRun, cancellationToken);
    }

    /// <summary>Ids of the machines that have a run in progress.</summary>
    public async Task<IReadOnlySet<Guid>> BusyMachinesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT assigned_machine_id FROM desktop_flow_runs WHERE status = 'running' AND assigned_machine_id IS NOT NULL",
            r => Guid.Parse(r.GetString(0)), cancellationToken);
        return rows.ToHashSet();
    }

    /// <summary>Moves a queued run to running on <paramref name="machineId"/>; false when it was no longer queued.</summary>
    public async Task<bool> TryStartAsync(Guid runId, Guid machineId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.ExecuteAsync(connection, null,
            "UPDATE desktop_flow_runs SET status = 'running', assigned_machine_id = @m, started_at = @at WHERE id = @id AND status = 'queued'", cancellationToken,
            ("m", machineId.ToString()), ("at", Sql.Timestamp(at)), ("id", runId.ToString())) > 0;
    }

    /// <summary>Puts a run that could not be handed to its machine back in the queue.</summary>
    public async Task RequeueAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null,
            "UPDATE desktop_flow_runs SET status = 'queued', assigned_machine_id = NULL, started_at = NULL WHERE id = @id AND status = 'running'", cancellationToken,
            ("id", runId.ToString()));
    }

    /// <summary>Ends a run that has not ended yet; false when it already had.</summary>
    public async Task<bool> TryFinishAsync(Guid runId, string status, string? reason, DateTimeOffset at, string? outputs, string? log, string? failedActionId,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.ExecuteAsync(connection, null, """
            UPDATE desktop_flow_runs SET status = @s, reason = @r, ended_at = @at, outputs = @o, log = @l, failed_action_id = @fa, connection_envelope = NULL
            WHERE id = @id AND status IN ('queued', 'running')
            """, cancellationToken,
            ("s", status), ("r", reason), ("at", Sql.Timestamp(at)), ("o", outputs), ("l", log), ("fa", failedActionId), ("id", runId.ToString())) > 0;
    }

    /// <summary>Marks a run for cancellation (the dispatcher tells the machine); false when the run already ended.</summary>
    public async Task<bool> RequestCancelAsync(Guid environmentId, Guid runId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.ExecuteAsync(connection, null,
            "UPDATE desktop_flow_runs SET cancel_requested = 1 WHERE environment_id = @e AND id = @id AND status IN ('queued', 'running')", cancellationToken,
            ("e", environmentId.ToString()), ("id", runId.ToString())) > 0;
    }

    /// <summary>Creates an empty group (its key arrives with its first member).</summary>
    /// <exception cref="ConflictException">The environment has a group of that name.</exception>
    public async Task CreateGroupAsync(MachineGroup group, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, null, "INSERT INTO desktop_machine_groups (id, environment_id, name, public_key, escrowed_key, created_at) VALUES (@id, @e, @n, NULL, NULL, @at)",
                cancellationToken, ("id", group.Id.ToString()), ("e", group.EnvironmentId.ToString()), ("n", group.Name), ("at", Sql.Timestamp(group.CreatedAt)));
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The environment already has a machine group named '{group.Name}'.");
        }
    }

    /// <summary>The environment's groups, by name.</summary>
    public async Task<IReadOnlyList<MachineGroup>> ListGroupsAsync(Guid environmentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{GroupColumns} WHERE environment_id = @e ORDER BY name", ReadGroup, cancellationToken, ("e", environmentId.ToString()));
    }

    /// <summary>A group of the environment by id or name, or null.</summary>
    public async Task<MachineGroup?> FindGroupAsync(Guid environmentId, string idOrName, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = Guid.TryParse(idOrName, out var id)
            ? await Sql.QueryAsync(connection, null, $"{GroupColumns} WHERE environment_id = @e AND id = @id", ReadGroup, cancellationToken, ("e", environmentId.ToString()), ("id", id.ToString()))
            : await Sql.QueryAsync(connection, null, $"{GroupColumns} WHERE environment_id = @e AND name = @n", ReadGroup, cancellationToken, ("e", environmentId.ToString()), ("n", idOrName));
        return rows.FirstOrDefault();
    }

    /// <summary>Sets the group's key pair if it has none yet; false when another member set one first.</summary>
    public async Task<bool> TrySetGroupKeyAsync(Guid groupId, string publicKey, string escrowedKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.ExecuteAsync(connection, null, "UPDATE desktop_machine_groups SET public_key = @pk, escrowed_key = @k WHERE id = @id AND public_key IS NULL", cancellationToken,
            ("pk", publicKey), ("k", escrowedKey), ("id", groupId.ToString())) > 0;
    }

    /// <summary>How many machines belong to the group.</summary>
    public async Task<int> CountMembersAsync(Guid groupId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT COUNT(*) FROM desktop_machines WHERE group_id = @g", r => Convert.ToInt32(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
            cancellationToken, ("g", groupId.ToString()));
        return rows[0];
    }

    /// <summary>Deletes a group.</summary>
    public async Task DeleteGroupAsync(Guid groupId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "DELETE FROM desktop_machine_groups WHERE id = @id", cancellationToken, ("id", groupId.ToString()));
    }

    /// <summary>Every machine that can take runs for <paramref name="run"/>: the machine itself, or the group's members.</summary>
    public async Task<IReadOnlyList<(Guid Id, string Path, bool Maintenance)>> CandidatesAsync(DesktopRun run, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return run.MachineId is { } machine
            ? await Sql.QueryAsync(connection, null, "SELECT id, hybrid_connection_path, maintenance FROM desktop_machines WHERE id = @id", ReadCandidate, cancellationToken, ("id", machine.ToString()))
            : await Sql.QueryAsync(connection, null, "SELECT id, hybrid_connection_path, maintenance FROM desktop_machines WHERE group_id = @g ORDER BY name", ReadCandidate, cancellationToken,
                ("g", run.GroupId.ToString()));
    }

    /// <summary>The hybrid connection path of a machine (any environment), or null when it was removed.</summary>
    public async Task<string?> MachinePathAsync(Guid machineId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT hybrid_connection_path FROM desktop_machines WHERE id = @id", r => r.GetString(0), cancellationToken, ("id", machineId.ToString()));
        return rows.FirstOrDefault();
    }

    private static (Guid, string, bool) ReadCandidate(DbDataReader r) => (Guid.Parse(r.GetString(0)), r.GetString(1), r.Flag(2));

    private static DateTimeOffset? Time(DbDataReader r, int ordinal) => r.NullableString(ordinal) is { } text ? Sql.ParseTimestamp(text) : null;

    private static Guid? Id(DbDataReader r, int ordinal) => r.NullableString(ordinal) is { } text ? Guid.Parse(text) : null;

    private static DesktopRun ReadRun(DbDataReader r) => new(
        Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), Guid.Parse(r.GetString(2)), r.GetString(3), r.GetString(4), Id(r, 5), Id(r, 6), Id(r, 7),
        r.GetString(8), r.NullableString(9), r.GetString(10), r.NullableString(11), Convert.ToInt32(r.GetValue(12), System.Globalization.CultureInfo.InvariantCulture),
        Sql.ParseTimestamp(r.GetString(13)), Sql.ParseTimestamp(r.GetString(14)), Time(r, 15), Time(r, 16), r.NullableString(17), r.NullableString(18),
        r.NullableString(19), r.Flag(20));

    private static MachineGroup ReadGroup(DbDataReader r) =>
        new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.NullableString(3), r.NullableString(4), Sql.ParseTimestamp(r.GetString(5)));
}
