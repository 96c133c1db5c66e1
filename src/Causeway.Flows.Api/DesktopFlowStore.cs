using System.Data.Common;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;

namespace Causeway.Flows.Api;

/// <summary>A desktop flow definition stored in an environment.</summary>
public sealed record StoredDesktopFlow(Guid Id, Guid EnvironmentId, string Name, string Definition, DateTimeOffset CreatedAt);

/// <summary>A machine registered with one environment: its public key and the hybrid connection it listens on.</summary>
public sealed record Machine(Guid Id, Guid EnvironmentId, string Name, string PublicKey, string HybridConnectionPath, bool Maintenance, DateTimeOffset CreatedAt)
{
    /// <summary>The machine group it belongs to, if any.</summary>
    public Guid? GroupId { get; init; }
}

/// <summary>
/// The desktop-flow tables. Every read takes the environment id, which callers have already authorized, so another
/// tenant's flows and machines are never reached. Thread-safe.
/// </summary>
public sealed class DesktopFlowStore(SqlDatabase database, TimeProvider time)
{
    internal static Migration Schema { get; } = new(600, "desktop flows and machines", """
        CREATE TABLE desktop_flows (id TEXT PRIMARY KEY, environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
            name TEXT NOT NULL, definition TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (environment_id, name));
        CREATE TABLE desktop_machines (id TEXT PRIMARY KEY, environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
            name TEXT NOT NULL, public_key TEXT NOT NULL, hybrid_connection_path TEXT NOT NULL UNIQUE, maintenance INTEGER NOT NULL,
            created_at TEXT NOT NULL, UNIQUE (environment_id, name))
        """);

    private const string FlowColumns = "SELECT id, environment_id, name, definition, created_at FROM desktop_flows";
    private const string MachineColumns = "SELECT id, environment_id, name, public_key, hybrid_connection_path, maintenance, created_at, group_id FROM desktop_machines";

    /// <summary>Stores a validated definition under its name.</summary>
    /// <exception cref="ConflictException">The environment has a desktop flow of that name.</exception>
    public async Task<StoredDesktopFlow> CreateFlowAsync(Guid environmentId, DesktopFlowDefinition definition, CancellationToken cancellationToken)
    {
        var flow = new StoredDesktopFlow(Guid.NewGuid(), environmentId, definition.Name, definition.Json, time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, null, "INSERT INTO desktop_flows (id, environment_id, name, definition, created_at) VALUES (@id, @e, @n, @d, @at)", cancellationToken,
                ("id", flow.Id.ToString()), ("e", environmentId.ToString()), ("n", flow.Name), ("d", flow.Definition), ("at", Sql.Timestamp(flow.CreatedAt)));
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The environment already has a desktop flow named '{definition.Name}'.");
        }

        return flow;
    }

    /// <summary>The environment's desktop flows, by name.</summary>
    public async Task<IReadOnlyList<StoredDesktopFlow>> ListFlowsAsync(Guid environmentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{FlowColumns} WHERE environment_id = @e ORDER BY name", ReadFlow, cancellationToken, ("e", environmentId.ToString()));
    }

    /// <summary>A desktop flow of the environment, or null.</summary>
    public async Task<StoredDesktopFlow?> FindFlowAsync(Guid environmentId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{FlowColumns} WHERE environment_id = @e AND id = @id", ReadFlow, cancellationToken,
            ("e", environmentId.ToString()), ("id", id.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>Deletes a desktop flow; false when there was none.</summary>
    public async Task<bool> DeleteFlowAsync(Guid environmentId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.ExecuteAsync(connection, null, "DELETE FROM desktop_flows WHERE environment_id = @e AND id = @id", cancellationToken,
            ("e", environmentId.ToString()), ("id", id.ToString())) > 0;
    }

    /// <summary>Stores a machine.</summary>
    /// <exception cref="ConflictException">The environment has a machine of that name.</exception>
    public async Task CreateMachineAsync(Machine machine, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, null,
                "INSERT INTO desktop_machines (id, environment_id, name, public_key, hybrid_connection_path, maintenance, created_at, group_id) VALUES (@id, @e, @n, @pk, @p, 0, @at, @g)",
                cancellationToken, ("id", machine.Id.ToString()), ("e", machine.EnvironmentId.ToString()), ("n", machine.Name), ("pk", machine.PublicKey),
                ("p", machine.HybridConnectionPath), ("at", Sql.Timestamp(machine.CreatedAt)), ("g", machine.GroupId?.ToString()));
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The environment already has a machine named '{machine.Name}'.");
        }
    }

    /// <summary>True when the environment has a machine of that name.</summary>
    public async Task<bool> MachineNameTakenAsync(Guid environmentId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT id FROM desktop_machines WHERE environment_id = @e AND name = @n", r => r.GetString(0), cancellationToken,
            ("e", environmentId.ToString()), ("n", name));
        return rows.Count > 0;
    }

    /// <summary>The environment's machines, by name.</summary>
    public async Task<IReadOnlyList<Machine>> ListMachinesAsync(Guid environmentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{MachineColumns} WHERE environment_id = @e ORDER BY name", ReadMachine, cancellationToken, ("e", environmentId.ToString()));
    }

    /// <summary>A machine of the environment, or null.</summary>
    public async Task<Machine?> FindMachineAsync(Guid environmentId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{MachineColumns} WHERE environment_id = @e AND id = @id", ReadMachine, cancellationToken,
            ("e", environmentId.ToString()), ("id", id.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>Turns maintenance mode on or off (a machine in maintenance is offered no runs).</summary>
    public async Task SetMaintenanceAsync(Guid id, bool maintenance, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "UPDATE desktop_machines SET maintenance = @m WHERE id = @id", cancellationToken, ("m", maintenance ? 1 : 0), ("id", id.ToString()));
    }

    /// <summary>Deletes a machine.</summary>
    public async Task DeleteMachineAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "DELETE FROM desktop_machines WHERE id = @id", cancellationToken, ("id", id.ToString()));
    }

    private static StoredDesktopFlow ReadFlow(DbDataReader r) =>
        new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), Sql.ParseTimestamp(r.GetString(4)));

    private static Machine ReadMachine(DbDataReader r) =>
        new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4), r.Flag(5), Sql.ParseTimestamp(r.GetString(6)))
        {
            GroupId = r.NullableString(7) is { } group ? Guid.Parse(group) : null,
        };
}
