using System.Data.Common;
using Causeway.Environments;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;
using Causeway.Security;

namespace Causeway.Gateway;

/// <summary>A gateway cluster: one key pair, one geography, one or more members.</summary>
public sealed record GatewayCluster(Guid Id, Guid TenantId, string Name, string Geography, string PublicKey, string EscrowedKey,
    bool DistributeRequests, int MemberConcurrencyLimit, DateTimeOffset CreatedAt);

/// <summary>An agent installation in a cluster; lower priority numbers are tried first.</summary>
public sealed record GatewayMember(Guid Id, Guid ClusterId, string Name, int Priority, string? Version, DateTimeOffset? LastHeartbeat, DateTimeOffset CreatedAt);

/// <summary>A database reached through a cluster; the credentials are an envelope only the cluster's agents can open.</summary>
public sealed record GatewayDataSource(Guid Id, Guid ClusterId, string Name, string Type, string Connection, string EncryptedCredentials, DateTimeOffset CreatedAt);

/// <summary>A data source exposed in an environment under its name.</summary>
public sealed record GatewayBinding(Guid Id, Guid DataSourceId, Guid EnvironmentId, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// The gateway tables. Every cluster read takes the caller's tenant, so another tenant's cluster is indistinguishable
/// from one that does not exist. Member credentials are stored as SHA-256 hashes only. Thread-safe.
/// </summary>
public sealed class GatewayStore(SqlDatabase database, TimeProvider time)
{
    /// <summary>The prefix of member credentials.</summary>
    public const string MemberCredentialPrefix = "gwm";

    internal static Migration Schema { get; } = new(400, "gateway clusters, members, data sources, bindings", """
        CREATE TABLE gateway_clusters (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, geography TEXT NOT NULL,
            public_key TEXT NOT NULL, escrowed_key TEXT NOT NULL, distribute_requests INTEGER NOT NULL, member_concurrency_limit INTEGER NOT NULL,
            created_at TEXT NOT NULL, UNIQUE (tenant_id, name));
        CREATE TABLE gateway_members (id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL REFERENCES gateway_clusters(id) ON DELETE CASCADE, name TEXT NOT NULL,
            priority INTEGER NOT NULL, credential_hash TEXT NOT NULL UNIQUE, version TEXT, last_heartbeat TEXT, created_at TEXT NOT NULL, UNIQUE (cluster_id, name));
        CREATE TABLE gateway_datasources (id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL REFERENCES gateway_clusters(id) ON DELETE CASCADE, name TEXT NOT NULL,
            type TEXT NOT NULL, connection TEXT NOT NULL, encrypted_credentials TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (cluster_id, name));
        CREATE TABLE gateway_bindings (id TEXT PRIMARY KEY, datasource_id TEXT NOT NULL REFERENCES gateway_datasources(id) ON DELETE CASCADE,
            environment_id TEXT NOT NULL REFERENCES environments(id) ON DELETE CASCADE, name TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (environment_id, name))
        """);

    private const string ClusterColumns = "SELECT id, tenant_id, name, geography, public_key, escrowed_key, distribute_requests, member_concurrency_limit, created_at FROM gateway_clusters";
    private const string MemberColumns = "SELECT id, cluster_id, name, priority, version, last_heartbeat, created_at FROM gateway_members";
    private const string DataSourceColumns = "SELECT id, cluster_id, name, type, connection, encrypted_credentials, created_at FROM gateway_datasources";

    // What the request path reads on every gateway request, remembered for EnvironmentService.ResolvedMemory and
    // forgotten at once on every change made through this store (see RememberedReads).
    private readonly RememberedReads<(Guid Environment, string Name), (GatewayDataSource, GatewayCluster)?> _bound = new(time, EnvironmentService.ResolvedMemory);
    private readonly RememberedReads<Guid, IReadOnlyList<GatewayMember>> _routing = new(time, EnvironmentService.ResolvedMemory);

    /// <summary>Creates a cluster with its first member; returns the member's credential (shown once).</summary>
    /// <exception cref="ConflictException">The tenant has a cluster of that name.</exception>
    public async Task<(GatewayCluster Cluster, GatewayMember Member, string Credential)> CreateClusterAsync(
        Guid tenantId, string name, string geography, string publicKey, string escrowedKey, string memberName, string? version, int concurrencyLimit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cluster = new GatewayCluster(Guid.NewGuid(), tenantId, name, geography, publicKey, escrowedKey, false, concurrencyLimit, now);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, transaction,
                "INSERT INTO gateway_clusters (id, tenant_id, name, geography, public_key, escrowed_key, distribute_requests, member_concurrency_limit, created_at) " +
                "VALUES (@id, @t, @n, @g, @pk, @ek, 0, @l, @at)", cancellationToken,
                ("id", cluster.Id.ToString()), ("t", tenantId.ToString()), ("n", name), ("g", geography), ("pk", publicKey), ("ek", escrowedKey),
                ("l", concurrencyLimit), ("at", Sql.Timestamp(now)));
            var (member, credential) = await InsertMemberAsync(connection, transaction, cluster.Id, memberName, 1, version, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (cluster, member, credential);
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The tenant already has a gateway cluster named '{name}'.");
        }
    }

    /// <summary>The tenant's clusters.</summary>
    public async Task<IReadOnlyList<GatewayCluster>> ListClustersAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{ClusterColumns} WHERE tenant_id = @t ORDER BY name", ReadCluster, cancellationToken, ("t", tenantId.ToString()));
    }

    /// <summary>A cluster of the tenant, or null (also when it belongs to another tenant).</summary>
    public async Task<GatewayCluster?> FindClusterAsync(Guid tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{ClusterColumns} WHERE tenant_id = @t AND id = @id", ReadCluster, cancellationToken,
            ("t", tenantId.ToString()), ("id", id.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>Changes the routing settings of a cluster.</summary>
    public async Task UpdateClusterAsync(Guid clusterId, bool distributeRequests, int concurrencyLimit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "UPDATE gateway_clusters SET distribute_requests = @d, member_concurrency_limit = @l WHERE id = @id", cancellationToken,
            ("d", distributeRequests ? 1 : 0), ("l", concurrencyLimit), ("id", clusterId.ToString()));
        Forget();
    }

    /// <summary>Deletes a cluster with its members, data sources and bindings.</summary>
    public async Task DeleteClusterAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = ("c", (object?)clusterId.ToString());
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_bindings WHERE datasource_id IN (SELECT id FROM gateway_datasources WHERE cluster_id = @c)", cancellationToken, id);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_datasources WHERE cluster_id = @c", cancellationToken, id);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_members WHERE cluster_id = @c", cancellationToken, id);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_clusters WHERE id = @c", cancellationToken, id);
        await transaction.CommitAsync(cancellationToken);
        Forget();
    }

    /// <summary>Adds a member to a cluster (lowest priority so far); returns its credential (shown once).</summary>
    /// <exception cref="ConflictException">The cluster has a member of that name.</exception>
    public async Task<(GatewayMember Member, string Credential)> AddMemberAsync(Guid clusterId, string name, string? version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginSerializedAsync(connection, 0x47617465_6d656d62, cancellationToken);
        var max = await Sql.QueryAsync(connection, transaction, "SELECT COALESCE(MAX(priority), 0) FROM gateway_members WHERE cluster_id = @c",
            r => Convert.ToInt32(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), cancellationToken, ("c", clusterId.ToString()));
        try
        {
            var result = await InsertMemberAsync(connection, transaction, clusterId, name, max[0] + 1, version, time.GetUtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            Forget();
            return result;
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The cluster already has a member named '{name}'.");
        }
    }

    /// <summary>The members of a cluster, by priority.</summary>
    public async Task<IReadOnlyList<GatewayMember>> ListMembersAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{MemberColumns} WHERE cluster_id = @c ORDER BY priority", ReadMember, cancellationToken, ("c", clusterId.ToString()));
    }

    /// <summary>Removes a member; false if it is not in the cluster.</summary>
    public async Task<bool> DeleteMemberAsync(Guid clusterId, Guid memberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var deleted = await Sql.ExecuteAsync(connection, null, "DELETE FROM gateway_members WHERE cluster_id = @c AND id = @m", cancellationToken,
            ("c", clusterId.ToString()), ("m", memberId.ToString())) > 0;
        Forget();
        return deleted;
    }

    /// <summary>The member a credential belongs to, with its cluster; null for an unknown credential.</summary>
    public async Task<(GatewayMember Member, GatewayCluster Cluster)?> AuthenticateMemberAsync(string credential, CancellationToken cancellationToken)
    {
        if (!credential.StartsWith(MemberCredentialPrefix + "_", StringComparison.Ordinal))
        {
            return null;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var members = await Sql.QueryAsync(connection, null, $"{MemberColumns} WHERE credential_hash = @h", ReadMember, cancellationToken, ("h", TokenHasher.Hash(credential)));
        if (members.Count == 0)
        {
            return null;
        }

        var clusters = await Sql.QueryAsync(connection, null, $"{ClusterColumns} WHERE id = @id", ReadCluster, cancellationToken, ("id", members[0].ClusterId.ToString()));
        return clusters.Count == 0 ? null : (members[0], clusters[0]);
    }

    /// <summary>Records a heartbeat (time and agent version).</summary>
    public async Task RecordHeartbeatAsync(Guid memberId, string? version, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "UPDATE gateway_members SET last_heartbeat = @at, version = COALESCE(@v, version) WHERE id = @id", cancellationToken,
            ("at", Sql.Timestamp(at)), ("v", version), ("id", memberId.ToString()));
    }

    /// <summary>Stores a data source whose credentials are already sealed.</summary>
    /// <exception cref="ConflictException">The cluster has a data source of that name.</exception>
    public async Task<GatewayDataSource> CreateDataSourceAsync(Guid clusterId, string name, string type, string connectionJson, string encryptedCredentials, CancellationToken cancellationToken)
    {
        var record = new GatewayDataSource(Guid.NewGuid(), clusterId, name, type, connectionJson, encryptedCredentials, time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, null,
                "INSERT INTO gateway_datasources (id, cluster_id, name, type, connection, encrypted_credentials, created_at) VALUES (@id, @c, @n, @t, @cn, @ec, @at)",
                cancellationToken, ("id", record.Id.ToString()), ("c", clusterId.ToString()), ("n", name), ("t", type), ("cn", connectionJson),
                ("ec", encryptedCredentials), ("at", Sql.Timestamp(record.CreatedAt)));
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The cluster already has a data source named '{name}'.");
        }

        return record;
    }

    /// <summary>The data sources of a cluster.</summary>
    public async Task<IReadOnlyList<GatewayDataSource>> ListDataSourcesAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{DataSourceColumns} WHERE cluster_id = @c ORDER BY name", ReadDataSource, cancellationToken, ("c", clusterId.ToString()));
    }

    /// <summary>A data source of the cluster, or null.</summary>
    public async Task<GatewayDataSource?> FindDataSourceAsync(Guid clusterId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{DataSourceColumns} WHERE cluster_id = @c AND id = @id", ReadDataSource, cancellationToken,
            ("c", clusterId.ToString()), ("id", id.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>Deletes a data source and its bindings; false if it is not in the cluster.</summary>
    public async Task<bool> DeleteDataSourceAsync(Guid clusterId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_bindings WHERE datasource_id = @id", cancellationToken, ("id", id.ToString()));
        var deleted = await Sql.ExecuteAsync(connection, transaction, "DELETE FROM gateway_datasources WHERE cluster_id = @c AND id = @id", cancellationToken,
            ("c", clusterId.ToString()), ("id", id.ToString()));
        await transaction.CommitAsync(cancellationToken);
        Forget();
        return deleted > 0;
    }

    /// <summary>Exposes a data source in an environment under the data source's name.</summary>
    /// <exception cref="ConflictException">The environment already exposes a data source of that name.</exception>
    public async Task<GatewayBinding> CreateBindingAsync(GatewayDataSource dataSource, Guid environmentId, CancellationToken cancellationToken)
    {
        var binding = new GatewayBinding(Guid.NewGuid(), dataSource.Id, environmentId, dataSource.Name, time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await Sql.ExecuteAsync(connection, null, "INSERT INTO gateway_bindings (id, datasource_id, environment_id, name, created_at) VALUES (@id, @d, @e, @n, @at)",
                cancellationToken, ("id", binding.Id.ToString()), ("d", dataSource.Id.ToString()), ("e", environmentId.ToString()), ("n", binding.Name),
                ("at", Sql.Timestamp(binding.CreatedAt)));
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"The environment already exposes a gateway data source named '{dataSource.Name}'.");
        }

        Forget();
        return binding;
    }

    /// <summary>The bindings of a data source.</summary>
    public async Task<IReadOnlyList<GatewayBinding>> ListBindingsAsync(Guid dataSourceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, "SELECT id, datasource_id, environment_id, name, created_at FROM gateway_bindings WHERE datasource_id = @d ORDER BY created_at",
            ReadBinding, cancellationToken, ("d", dataSourceId.ToString()));
    }

    /// <summary>
    /// <see cref="FindBoundAsync"/> for the request path: remembered for <c>EnvironmentService.ResolvedMemory</c> (see the
    /// note on the memory above). A name that is not bound is not remembered.
    /// </summary>
    public async Task<(GatewayDataSource DataSource, GatewayCluster Cluster)?> ResolveBoundAsync(Guid environmentId, string name, CancellationToken cancellationToken)
    {
        var read = _bound.BeginRead();
        if (_bound.TryGet((environmentId, name), out var known))
        {
            return known;
        }

        var found = await FindBoundAsync(environmentId, name, cancellationToken);
        if (found is not null)
        {
            _bound.Remember((environmentId, name), found, read);
        }

        return found;
    }

    /// <summary>
    /// The members of a cluster by priority, for routing: remembered like <see cref="ResolveBoundAsync"/>. Their heartbeat
    /// fields may be up to the memory time old; read <see cref="ListMembersAsync"/> to show them.
    /// </summary>
    public async Task<IReadOnlyList<GatewayMember>> RoutingMembersAsync(Guid clusterId, CancellationToken cancellationToken)
    {
        var read = _routing.BeginRead();
        if (_routing.TryGet(clusterId, out var known))
        {
            return known;
        }

        var members = await ListMembersAsync(clusterId, cancellationToken);
        _routing.Remember(clusterId, members, read);
        return members;
    }

    /// <summary>The data source an environment exposes under <paramref name="name"/>, with its cluster; null if none.</summary>
    public async Task<(GatewayDataSource DataSource, GatewayCluster Cluster)?> FindBoundAsync(Guid environmentId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sources = await Sql.QueryAsync(connection, null,
            "SELECT d.id, d.cluster_id, d.name, d.type, d.connection, d.encrypted_credentials, d.created_at FROM gateway_bindings b " +
            "JOIN gateway_datasources d ON d.id = b.datasource_id WHERE b.environment_id = @e AND b.name = @n", ReadDataSource, cancellationToken,
            ("e", environmentId.ToString()), ("n", name));
        if (sources.Count == 0)
        {
            return null;
        }

        var clusters = await Sql.QueryAsync(connection, null, $"{ClusterColumns} WHERE id = @id", ReadCluster, cancellationToken, ("id", sources[0].ClusterId.ToString()));
        return clusters.Count == 0 ? null : (sources[0], clusters[0]);
    }

    private void Forget()
    {
        _bound.ForgetAll();
        _routing.ForgetAll();
    }

    private static async Task<(GatewayMember, string)> InsertMemberAsync(DbConnection connection, DbTransaction transaction, Guid clusterId, string name, int priority,
        string? version, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var credential = TokenHasher.NewToken(MemberCredentialPrefix);
        var member = new GatewayMember(Guid.NewGuid(), clusterId, name, priority, version, null, now);
        await Sql.ExecuteAsync(connection, transaction,
            "INSERT INTO gateway_members (id, cluster_id, name, priority, credential_hash, version, last_heartbeat, created_at) VALUES (@id, @c, @n, @p, @h, @v, NULL, @at)",
            cancellationToken, ("id", member.Id.ToString()), ("c", clusterId.ToString()), ("n", name), ("p", priority), ("h", TokenHasher.Hash(credential)),
            ("v", version), ("at", Sql.Timestamp(now)));
        return (member, credential);
    }

    private static GatewayCluster ReadCluster(DbDataReader r) => new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3),
        r.GetString(4), r.GetString(5), r.Flag(6), Convert.ToInt32(r.GetValue(7), System.Globalization.CultureInfo.InvariantCulture), Sql.ParseTimestamp(r.GetString(8)));

    private static GatewayMember ReadMember(DbDataReader r) => new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2),
        Convert.ToInt32(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture), r.NullableString(4),
        r.NullableString(5) is { } beat ? Sql.ParseTimestamp(beat) : null, Sql.ParseTimestamp(r.GetString(6)));

    private static GatewayDataSource ReadDataSource(DbDataReader r) => new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3),
        r.GetString(4), r.GetString(5), Sql.ParseTimestamp(r.GetString(6)));

    private static GatewayBinding ReadBinding(DbDataReader r) => new(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), Guid.Parse(r.GetString(2)), r.GetString(3),
        Sql.ParseTimestamp(r.GetString(4)));
}
