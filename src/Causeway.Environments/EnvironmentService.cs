using System.Data.Common;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;
using Causeway.Topology;
using Microsoft.Extensions.Logging;

namespace Causeway.Environments;

/// <summary>Thrown when a create request names something the deployment cannot honour; the message says which field and why.</summary>
public sealed class EnvironmentRequestException(string field, string message) : Exception(message)
{
    /// <summary>The request field at fault.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Creates, finds and deletes environments. Every read takes the caller's tenant and filters by it, so another tenant's
/// environment is indistinguishable from one that does not exist. Placement and the insert of the new row happen in one
/// serialized transaction, so two concurrent creations cannot overbook a scale group. Thread-safe.
/// </summary>
public sealed class EnvironmentService(
    SqlDatabase database, DeploymentTopology topology, EnvironmentDatabases databases, TimeProvider time, ILogger<EnvironmentService> logger)
{
    /// <summary>
    /// How long <see cref="ResolveAsync"/> remembers an environment found by name and a caller's role in it without asking
    /// the platform database. Every change made through this process (create, delete, role assignment) forgets everything
    /// at once; a change made through another server process sharing the platform database takes effect within this time
    /// (the same rule as <see cref="TenantStore.AcceptedTokenMemory"/>).
    /// </summary>
    public static readonly TimeSpan ResolvedMemory = TimeSpan.FromSeconds(10);

    private const long PlacementLock = 0x506c6163656d6e74; // "Placemnt"
    private readonly RememberedReads<(Guid Tenant, string Name), EnvironmentRecord> _byName = new(time, ResolvedMemory);
    private readonly RememberedReads<(Guid Environment, Guid User), EnvironmentRole?> _roles = new(time, ResolvedMemory);

    internal static Migration Schema { get; } = new(100, "environments and roles", """
        CREATE TABLE environments (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, geography TEXT NOT NULL,
            type TEXT NOT NULL, state TEXT NOT NULL, early_release INTEGER NOT NULL, primary_datacenter TEXT NOT NULL, secondary_datacenter TEXT NOT NULL,
            primary_scale_group TEXT NOT NULL, secondary_scale_group TEXT NOT NULL, database_location TEXT NOT NULL, created_at TEXT NOT NULL,
            expires_at TEXT, created_by TEXT, UNIQUE (tenant_id, name));
        CREATE INDEX ix_environments_primary ON environments (primary_scale_group);
        CREATE INDEX ix_environments_secondary ON environments (secondary_scale_group);
        CREATE TABLE environment_roles (environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE, user_id TEXT NOT NULL REFERENCES users(id),
            role TEXT NOT NULL, PRIMARY KEY (environment_id, user_id))
        """);

    /// <summary>The deployment this service places into.</summary>
    public DeploymentTopology Topology => topology;

    /// <summary>Checks a name like a Dataverse unique name: 1-63 lower-case letters, digits and '-', starting with a letter, not ending with '-'.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrEmpty(name) ? "name is required."
        : name.Length > 63 || !char.IsAsciiLetterLower(name[0]) || name[^1] == '-' || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            ? $"name '{TenancyApi.Shorten(name)}' must be 1-63 lower-case letters, digits or '-', start with a letter and not end with '-'."
            : null;

    /// <summary>
    /// Places and creates an environment with its own database, then makes <paramref name="owner"/> its System Administrator.
    /// On any failure nothing is left behind: neither the row nor the database.
    /// </summary>
    /// <exception cref="EnvironmentRequestException">Bad name, unknown or unserved geography.</exception>
    /// <exception cref="ConflictException">The tenant has an environment of that name, or a second Default one.</exception>
    /// <exception cref="CapacityExhaustedException">No scale group of the kind has room.</exception>
    public async Task<EnvironmentRecord> CreateAsync(Guid tenantId, Guid? owner, string name, string geographyId, EnvironmentType type, bool earlyRelease, CancellationToken cancellationToken)
    {
        if (CheckName(name) is { } nameError)
        {
            throw new EnvironmentRequestException("name", nameError);
        }

        var geography = topology.FindServed(geographyId) ?? throw new EnvironmentRequestException("geography",
            topology.Catalog.Find(geographyId) is null
                ? $"geography '{TenancyApi.Shorten(geographyId)}' is not a known geography. This deployment serves: {string.Join(", ", topology.Geographies.Select(g => g.Id))}."
                : $"geography '{geographyId}' is not served by this deployment. It serves: {string.Join(", ", topology.Geographies.Select(g => g.Id))}.");

        var now = time.GetUtcNow();
        EnvironmentRecord record;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var transaction = await database.BeginSerializedAsync(connection, PlacementLock, cancellationToken);
            var existing = await Sql.QueryAsync(connection, transaction, "SELECT name, type FROM environments WHERE tenant_id = @t AND (name = @n OR type = 'default')",
                r => (Name: r.GetString(0), Type: r.GetString(1)), cancellationToken, ("t", tenantId.ToString()), ("n", name));
            if (existing.Any(e => e.Name == name))
            {
                throw new ConflictException($"The tenant already has an environment named '{name}'.");
            }

            if (type == EnvironmentType.Default && existing.Any(e => e.Type == "default"))
            {
                throw new ConflictException("The tenant already has its Default environment; a tenant has exactly one.");
            }

            var decision = Placement.Place(topology, geography, Placement.KindFor(type, earlyRelease), await LoadAsync(connection, transaction, cancellationToken));
            var id = Guid.NewGuid();
            record = new EnvironmentRecord(id, tenantId, name, geography.Id, type, EnvironmentState.Provisioning, earlyRelease,
                decision.PrimaryDatacenter, decision.SecondaryDatacenter, decision.Primary.Name, decision.Secondary.Name, "",
                now, type == EnvironmentType.Trial ? now + EnvironmentRecord.TrialLifetime : null, owner);
            await Sql.ExecuteAsync(connection, transaction,
                "INSERT INTO environments (id, tenant_id, name, geography, type, state, early_release, primary_datacenter, secondary_datacenter, " +
                "primary_scale_group, secondary_scale_group, database_location, created_at, expires_at, created_by) VALUES " +
                "(@id, @t, @n, @g, @type, @state, @early, @pdc, @sdc, @psg, @ssg, '', @at, @exp, @by)", cancellationToken,
                ("id", id.ToString()), ("t", tenantId.ToString()), ("n", name), ("g", geography.Id), ("type", type.ToWire()),
                ("state", "provisioning"), ("early", earlyRelease ? 1 : 0), ("pdc", record.PrimaryDatacenter), ("sdc", record.SecondaryDatacenter),
                ("psg", record.PrimaryScaleGroup), ("ssg", record.SecondaryScaleGroup), ("at", Sql.Timestamp(now)),
                ("exp", record.ExpiresAt is { } expiry ? Sql.Timestamp(expiry) : null), ("by", owner?.ToString()));
            await transaction.CommitAsync(cancellationToken);
        }

        Forget();

        string? location = null;
        try
        {
            location = await databases.CreateAsync(record.Id, name, topology.FindScaleGroup(record.PrimaryScaleGroup)!, cancellationToken);
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Sql.ExecuteAsync(connection, transaction, "UPDATE environments SET state = 'ready', database_location = @loc WHERE id = @id", cancellationToken,
                ("loc", location), ("id", record.Id.ToString()));
            if (owner is { } user)
            {
                await Sql.ExecuteAsync(connection, transaction, "INSERT INTO environment_roles (environment_id, user_id, role) VALUES (@e, @u, @r)", cancellationToken,
                    ("e", record.Id.ToString()), ("u", user.ToString()), ("r", RoleWire(EnvironmentRole.SystemAdministrator)));
            }

            await transaction.CommitAsync(cancellationToken);
            Forget();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Creating the database of environment {Environment} failed; removing it", record.Id);
            await RemoveAsync(record with { DatabaseLocation = location ?? "" }, CancellationToken.None);
            throw;
        }

        logger.LogInformation("Environment {Environment} ({Name}) placed on {Primary}/{Secondary}", record.Id, name, record.PrimaryScaleGroup, record.SecondaryScaleGroup);
        return record with { StoredState = EnvironmentState.Ready, DatabaseLocation = location };
    }

    /// <summary>The tenant's environments, or only those the user holds a role in.</summary>
    public async Task<IReadOnlyList<EnvironmentRecord>> ListAsync(Guid tenantId, Guid? visibleTo, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = $"{Columns} WHERE e.tenant_id = @t" +
            (visibleTo is null ? "" : " AND EXISTS (SELECT 1 FROM environment_roles r WHERE r.environment_id = e.id AND r.user_id = @u)") + " ORDER BY e.name";
        return await Sql.QueryAsync(connection, null, sql, Read, cancellationToken, ("t", tenantId.ToString()), ("u", visibleTo?.ToString() ?? ""));
    }

    /// <summary>An environment of the tenant by id, or null (also when it belongs to another tenant).</summary>
    public Task<EnvironmentRecord?> FindAsync(Guid tenantId, Guid id, CancellationToken cancellationToken) =>
        FindOneAsync("e.tenant_id = @t AND e.id = @k", tenantId, id.ToString(), cancellationToken);

    /// <summary>An environment of the tenant by name, or null.</summary>
    public Task<EnvironmentRecord?> FindByNameAsync(Guid tenantId, string name, CancellationToken cancellationToken) =>
        FindOneAsync("e.tenant_id = @t AND e.name = @k", tenantId, name, cancellationToken);

    /// <summary>
    /// The environment of the caller's tenant with that name and the caller's role in it, either from memory (see
    /// <see cref="ResolvedMemory"/>) or from the platform database. A name that is not found is not remembered.
    /// </summary>
    public async Task<(EnvironmentRecord? Environment, EnvironmentRole? Role)> ResolveAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(name);
        var environmentRead = _byName.BeginRead();
        var roleRead = _roles.BeginRead();
        if (!_byName.TryGet((caller.TenantId, name), out var environment))
        {
            environment = await FindByNameAsync(caller.TenantId, name, cancellationToken);
            if (environment is null)
            {
                return (null, null);
            }

            _byName.Remember((caller.TenantId, name), environment, environmentRead);
        }

        if (caller.TenantId != environment.TenantId || caller.IsTenantAdmin)
        {
            return (environment, await RoleOfAsync(caller, environment, cancellationToken));
        }

        if (_roles.TryGet((environment.Id, caller.UserId), out var role))
        {
            return (environment, role);
        }

        var found = await RoleOfAsync(caller, environment, cancellationToken);
        _roles.Remember((environment.Id, caller.UserId), found, roleRead);
        return (environment, found);
    }

    /// <summary>How many environments each scale group hosts (as primary or secondary).</summary>
    public async Task<IReadOnlyDictionary<string, int>> LoadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await LoadAsync(connection, null, cancellationToken);
    }

    /// <summary>The role the caller holds in the environment: tenant administrators hold System Administrator everywhere.</summary>
    public async Task<EnvironmentRole?> RoleOfAsync(Caller caller, EnvironmentRecord environment, CancellationToken cancellationToken)
    {
        if (caller.TenantId != environment.TenantId)
        {
            return null;
        }

        if (caller.IsTenantAdmin)
        {
            return EnvironmentRole.SystemAdministrator;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT role FROM environment_roles WHERE environment_id = @e AND user_id = @u",
            r => r.GetString(0), cancellationToken, ("e", environment.Id.ToString()), ("u", caller.UserId.ToString()));
        return rows.Count == 0 ? null : ParseRole(rows[0]);
    }

    /// <summary>The environment's role assignments.</summary>
    public async Task<IReadOnlyList<(Guid UserId, EnvironmentRole Role)>> RolesAsync(Guid environmentId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, "SELECT user_id, role FROM environment_roles WHERE environment_id = @e ORDER BY user_id",
            r => (Guid.Parse(r.GetString(0)), ParseRole(r.GetString(1))!.Value), cancellationToken, ("e", environmentId.ToString()));
    }

    /// <summary>Gives a user of the same tenant a role in the environment, replacing any role it had. Idempotent.</summary>
    public async Task AssignRoleAsync(Guid environmentId, Guid userId, EnvironmentRole? role, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM environment_roles WHERE environment_id = @e AND user_id = @u", cancellationToken,
            ("e", environmentId.ToString()), ("u", userId.ToString()));
        if (role is { } r)
        {
            await Sql.ExecuteAsync(connection, transaction, "INSERT INTO environment_roles (environment_id, user_id, role) VALUES (@e, @u, @r)", cancellationToken,
                ("e", environmentId.ToString()), ("u", userId.ToString()), ("r", RoleWire(r)));
        }

        await transaction.CommitAsync(cancellationToken);
        Forget();
    }

    /// <summary>Deletes an environment and its database.</summary>
    /// <exception cref="ConflictException">It is the tenant's Default environment.</exception>
    public async Task DeleteAsync(EnvironmentRecord environment, CancellationToken cancellationToken)
    {
        if (environment.Type == EnvironmentType.Default)
        {
            throw new ConflictException("The Default environment cannot be deleted.");
        }

        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await Sql.ExecuteAsync(connection, null, "UPDATE environments SET state = 'deleting' WHERE id = @id", cancellationToken, ("id", environment.Id.ToString()));
        }

        Forget();

        await RemoveAsync(environment, cancellationToken);
        logger.LogInformation("Environment {Environment} ({Name}) deleted", environment.Id, environment.Name);
    }

    /// <summary>The wire name of a role (<c>systemAdministrator</c>).</summary>
    public static string RoleWire(EnvironmentRole role) => role switch
    {
        EnvironmentRole.SystemAdministrator => "systemAdministrator",
        EnvironmentRole.EnvironmentMaker => "environmentMaker",
        _ => "basicUser",
    };

    /// <summary>Parses a role's wire name, ignoring case; null for anything else.</summary>
    public static EnvironmentRole? ParseRole(string? text) => text?.ToLowerInvariant() switch
    {
        "systemadministrator" => EnvironmentRole.SystemAdministrator,
        "environmentmaker" => EnvironmentRole.EnvironmentMaker,
        "basicuser" => EnvironmentRole.BasicUser,
        _ => null,
    };

    private async Task RemoveAsync(EnvironmentRecord environment, CancellationToken cancellationToken)
    {
        if (environment.DatabaseLocation.Length > 0)
        {
            await databases.DropAsync(environment.DatabaseLocation, cancellationToken);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM environment_roles WHERE environment_id = @id", cancellationToken, ("id", environment.Id.ToString()));
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM environments WHERE id = @id", cancellationToken, ("id", environment.Id.ToString()));
        await transaction.CommitAsync(cancellationToken);
        Forget();
    }

    /// <summary>Forgets every remembered environment and role; called after each change commits.</summary>
    private void Forget()
    {
        _byName.ForgetAll();
        _roles.ForgetAll();
    }

    private static async Task<IReadOnlyDictionary<string, int>> LoadAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var rows = await Sql.QueryAsync(connection, transaction,
            "SELECT primary_scale_group, COUNT(*) FROM environments GROUP BY primary_scale_group UNION ALL " +
            "SELECT secondary_scale_group, COUNT(*) FROM environments GROUP BY secondary_scale_group",
            r => (Name: r.GetString(0), Count: Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
        return rows.GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Sum(r => r.Count));
    }

    private async Task<EnvironmentRecord?> FindOneAsync(string where, Guid tenantId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{Columns} WHERE {where}", Read, cancellationToken, ("t", tenantId.ToString()), ("k", key));
        return rows.FirstOrDefault();
    }

    private const string Columns =
        "SELECT e.id, e.tenant_id, e.name, e.geography, e.type, e.state, e.early_release, e.primary_datacenter, e.secondary_datacenter, " +
        "e.primary_scale_group, e.secondary_scale_group, e.database_location, e.created_at, e.expires_at, e.created_by FROM environments e";

    private static EnvironmentRecord Read(DbDataReader r) => new(
        Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3),
        TopologyNames.TryParseType(r.GetString(4), out var type) ? type : EnvironmentType.Production,
        Enum.Parse<EnvironmentState>(r.GetString(5), ignoreCase: true), r.Flag(6), r.GetString(7), r.GetString(8), r.GetString(9), r.GetString(10),
        r.GetString(11), Sql.ParseTimestamp(r.GetString(12)), r.NullableString(13) is { } e ? Sql.ParseTimestamp(e) : null,
        r.NullableString(14) is { } by ? Guid.Parse(by) : null);
}
