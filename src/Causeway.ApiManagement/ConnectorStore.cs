using System.Collections.Concurrent;
using System.Data.Common;
using Causeway.Connectors;
using Causeway.Platform.Database;

namespace Causeway.ApiManagement;

/// <summary>A connector package as stored: the three parts as text.</summary>
internal sealed record StoredPackage(string ApiDefinition, string ApiProperties, string? Script);

/// <summary>
/// The connectors a tenant sees: the built-ins plus its own custom connectors, kept as package text in the platform
/// database (so every node reads the same) and parsed once per process. Thread-safe.
/// </summary>
internal sealed class ConnectorStore(SqlDatabase database, TimeProvider time)
{
    // Another node may delete a connector (or delete and import one of the same name); a parsed definition is trusted this
    // long before its row's version (its created_at) is read again. Only a changed row is parsed again, so an unchanged
    // definition keeps its identity and what is compiled for it (the matcher's templates).
    private static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<(Guid Tenant, string Name), (ConnectorDefinition? Definition, string? Version, long LoadedAt)> _cache = new();

    public static Migration Schema { get; } = new(500, "api management: connectors, connections, shares", """
        CREATE TABLE apim_connectors (tenant_id TEXT NOT NULL, name TEXT NOT NULL, display_name TEXT NOT NULL, api_definition TEXT NOT NULL,
            api_properties TEXT NOT NULL, script TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (tenant_id, name));
        CREATE TABLE apim_connections (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, environment_id TEXT NOT NULL, owner_id TEXT NOT NULL,
            connector TEXT NOT NULL, display_name TEXT, parameter_set TEXT, plain_values TEXT NOT NULL, oauth_config TEXT, secrets TEXT,
            status TEXT NOT NULL, status_reason TEXT, oauth_state TEXT, oauth_state_expires TEXT, created_at TEXT NOT NULL);
        CREATE INDEX ix_apim_connections_env ON apim_connections (tenant_id, environment_id);
        CREATE INDEX ix_apim_connections_state ON apim_connections (oauth_state);
        CREATE TABLE apim_connection_shares (connection_id TEXT NOT NULL REFERENCES apim_connections(id) ON DELETE CASCADE, user_id TEXT NOT NULL,
            PRIMARY KEY (connection_id, user_id))
        """);

    /// <summary>Every connector the tenant sees, by name.</summary>
    public async Task<IReadOnlyList<ConnectorDefinition>> ListAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT name, api_definition, api_properties, script FROM apim_connectors WHERE tenant_id = @t",
            r => (Name: r.GetString(0), Package: new StoredPackage(r.GetString(1), r.GetString(2), r.NullableString(3))), cancellationToken, ("t", tenantId.ToString()));
        var custom = rows.Select(r => Parse(r.Name, r.Package));
        return BuiltInConnectors.All.Concat(custom).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The tenant's connector of that name (built-in or custom), or null.</summary>
    public async Task<ConnectorDefinition?> FindAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        foreach (var builtIn in BuiltInConnectors.All)
        {
            if (string.Equals(builtIn.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return builtIn;
            }
        }

        var key = (tenantId, name.ToLowerInvariant());
        var found = _cache.TryGetValue(key, out var cached);
        if (found && time.GetElapsedTime(cached.LoadedAt) < CacheTime)
        {
            return cached.Definition;
        }

        string? version;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            version = (await Sql.QueryAsync(connection, null, "SELECT created_at FROM apim_connectors WHERE tenant_id = @t AND name = @n", r => r.GetString(0),
                cancellationToken, ("t", tenantId.ToString()), ("n", key.Item2))).FirstOrDefault();
        }

        if (found && cached.Version == version)
        {
            _cache[key] = cached with { LoadedAt = time.GetTimestamp() };
            return cached.Definition;
        }

        var package = version is null ? null : await FindPackageAsync(tenantId, name, cancellationToken);
        var definition = package is null ? null : Parse(key.Item2, package);
        _cache[key] = (definition, version, time.GetTimestamp());
        return definition;
    }

    /// <summary>The stored package text, or null.</summary>
    public async Task<StoredPackage?> FindPackageAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT api_definition, api_properties, script FROM apim_connectors WHERE tenant_id = @t AND name = @n",
            r => new StoredPackage(r.GetString(0), r.GetString(1), r.NullableString(2)), cancellationToken, ("t", tenantId.ToString()), ("n", name.ToLowerInvariant()));
        return rows.FirstOrDefault();
    }

    /// <summary>
    /// Stores a validated package under the name its title gives, made unique within the tenant (<c>name-2</c> ...; the
    /// built-in names are taken). Returns the definition with its final name.
    /// </summary>
    public async Task<ConnectorDefinition> AddAsync(Guid tenantId, Guid createdBy, ConnectorDefinition parsed, StoredPackage package, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginSerializedAsync(connection, 0x61706d, cancellationToken);
        var taken = (await Sql.QueryAsync(connection, transaction, "SELECT name FROM apim_connectors WHERE tenant_id = @t", r => r.GetString(0), cancellationToken,
            ("t", tenantId.ToString()))).Concat(BuiltInConnectors.All.Select(c => c.Name)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var name = ConnectorNaming.MakeUnique(parsed.Name, taken.Contains);
        var createdAt = Sql.Timestamp(time.GetUtcNow());
        await Sql.ExecuteAsync(connection, transaction,
            "INSERT INTO apim_connectors (tenant_id, name, display_name, api_definition, api_properties, script, created_by, created_at) VALUES (@t, @n, @d, @a, @p, @s, @u, @at)",
            cancellationToken, ("t", tenantId.ToString()), ("n", name), ("d", parsed.DisplayName), ("a", package.ApiDefinition), ("p", package.ApiProperties),
            ("s", package.Script), ("u", createdBy.ToString()), ("at", createdAt));
        await transaction.CommitAsync(cancellationToken);
        var stored = parsed with { Name = name };
        _cache[(tenantId, name)] = (stored, createdAt, time.GetTimestamp());
        return stored;
    }

    /// <summary>Deletes a custom connector; false when the tenant has none of that name.</summary>
    public async Task<bool> DeleteAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await Sql.ExecuteAsync(connection, null, "DELETE FROM apim_connectors WHERE tenant_id = @t AND name = @n", cancellationToken,
            ("t", tenantId.ToString()), ("n", name.ToLowerInvariant()));
        _cache.TryRemove((tenantId, name.ToLowerInvariant()), out _);
        return changed > 0;
    }

    /// <summary>How many connections of the tenant use the connector.</summary>
    public async Task<long> CountConnectionsAsync(Guid tenantId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await CountAsync(connection, "SELECT COUNT(*) FROM apim_connections WHERE tenant_id = @t AND connector = @n", cancellationToken,
            ("t", tenantId.ToString()), ("n", name.ToLowerInvariant()));
    }

    private static async Task<long> CountAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        (await Sql.QueryAsync(connection, null, sql, r => Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), cancellationToken, parameters))[0];

    private static ConnectorDefinition Parse(string name, StoredPackage package) =>
        ConnectorPackageReader.ReadText(package.ApiDefinition, package.ApiProperties, package.Script) with { Name = name };
}
