using System.Data.Common;
using System.Text.Json;
using Causeway.Platform.Database;
using Causeway.Security;

namespace Causeway.ApiManagement;

/// <summary>Connection states as the API shows them.</summary>
internal static class ConnectionStatus
{
    public const string Connected = "Connected";
    public const string Unauthenticated = "Unauthenticated";
    public const string Error = "Error";
}

/// <summary>The OAuth 2.0 settings of a connection (no secrets: those are in <see cref="ConnectionSecrets"/>).</summary>
internal sealed record OAuthConfig(
    string GrantType, string ClientId, string? Scopes, string? AuthorizationUrl, string TokenUrl, string? RefreshUrl, string? RedirectUri, string ParameterName)
{
    public const string AuthorizationCode = "authorization_code";
    public const string ClientCredentials = "client_credentials";
}

/// <summary>Everything secret of a connection; stored as one envelope bound to the connection id.</summary>
internal sealed class ConnectionSecrets
{
    public Dictionary<string, string> Parameters { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public string? ClientSecret { get; set; }

    public string? AccessToken { get; set; }

    public string? RefreshToken { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>
    /// A gateway connection's secret parameters as one envelope sealed for the gateway cluster's public key
    /// (<c>GatewayEnvelope</c>): only the cluster's agents can open it; this server cannot. <see cref="Parameters"/> is then empty.
    /// </summary>
    public string? GatewayCredentials { get; set; }

    /// <summary>A copy that shares nothing changeable with this one.</summary>
    public ConnectionSecrets Copy() => new()
    {
        Parameters = new Dictionary<string, string>(Parameters, StringComparer.OrdinalIgnoreCase),
        ClientSecret = ClientSecret,
        AccessToken = AccessToken,
        RefreshToken = RefreshToken,
        ExpiresAt = ExpiresAt,
        GatewayCredentials = GatewayCredentials,
    };
}

/// <summary>A connection as stored, secrets still sealed.</summary>
internal sealed record ConnectionRecord(
    Guid Id, Guid TenantId, Guid EnvironmentId, Guid OwnerId, string Connector, string? DisplayName, string? ParameterSet,
    IReadOnlyDictionary<string, string> Values, OAuthConfig? OAuth, string? SealedSecrets, string Status, string? StatusReason,
    DateTimeOffset CreatedAt, IReadOnlyList<Guid> SharedWith)
{
    /// <summary>True when the user owns the connection or it is shared with them.</summary>
    public bool UsableBy(Guid userId) => OwnerId == userId || SharedWith.Contains(userId);
}

/// <summary>
/// Connections in the platform database. Secret values (securestring parameters, the OAuth client secret and tokens)
/// are sealed with the master key before they are written and never leave this class except to the runtime.
/// Every query filters by tenant. Thread-safe.
/// </summary>
internal sealed class ConnectionStore(SqlDatabase database, MasterKeyProtector protector, TimeProvider time)
{
    /// <summary>
    /// How long a connection read for a call is reused without asking the database. Every change made through this
    /// process clears it at once; a change made through another node of a scaled deployment takes effect within this time.
    /// </summary>
    public static readonly TimeSpan RecordMemory = TimeSpan.FromSeconds(5);

    private const int MaxRememberedRecords = 10_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid Tenant, Guid Id), (ConnectionRecord Record, long At)> _remembered = new();

    // Keyed by the record object (reference identity): a new read, hence a changed record, is opened again.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<ConnectionRecord, ConnectionSecrets> _unsealed = new();

    private const string Columns = "SELECT id, tenant_id, environment_id, owner_id, connector, display_name, parameter_set, plain_values, oauth_config, secrets, status, status_reason, created_at FROM apim_connections";

    public async Task<ConnectionRecord> CreateAsync(
        Guid tenantId, Guid environmentId, Guid ownerId, string connector, string? displayName, string? parameterSet,
        IReadOnlyDictionary<string, string> values, OAuthConfig? oauth, ConnectionSecrets secrets, string status, string? statusReason,
        string? oauthState, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null,
            "INSERT INTO apim_connections (id, tenant_id, environment_id, owner_id, connector, display_name, parameter_set, plain_values, oauth_config, secrets, status, status_reason, oauth_state, oauth_state_expires, created_at) " +
            "VALUES (@id, @t, @e, @o, @c, @d, @ps, @v, @oa, @s, @st, @sr, @state, @se, @at)", cancellationToken,
            ("id", id.ToString()), ("t", tenantId.ToString()), ("e", environmentId.ToString()), ("o", ownerId.ToString()), ("c", connector.ToLowerInvariant()),
            ("d", displayName), ("ps", parameterSet), ("v", JsonSerializer.Serialize(values, Json)), ("oa", oauth is null ? null : JsonSerializer.Serialize(oauth, Json)),
            ("s", Seal(id, secrets)), ("st", status), ("sr", statusReason), ("state", oauthState is null ? null : TokenHasher.Hash(oauthState)),
            ("se", oauthState is null ? null : Sql.Timestamp(now.AddMinutes(15))), ("at", Sql.Timestamp(now)));
        return new ConnectionRecord(id, tenantId, environmentId, ownerId, connector.ToLowerInvariant(), displayName, parameterSet, values, oauth,
            null, status, statusReason, now, []);
    }

    /// <summary>The tenant's connection for a call: as <see cref="FindAsync"/>, remembered for <see cref="RecordMemory"/>.</summary>
    public async Task<ConnectionRecord?> FindForCallAsync(Guid tenantId, Guid id, CancellationToken cancellationToken)
    {
        if (_remembered.TryGetValue((tenantId, id), out var r) && time.GetElapsedTime(r.At) < RecordMemory)
        {
            return r.Record;
        }

        var record = await FindAsync(tenantId, id, cancellationToken);
        if (record is not null)
        {
            if (_remembered.Count >= MaxRememberedRecords)
            {
                _remembered.Clear();
            }

            _remembered[(tenantId, id)] = (record, time.GetTimestamp());
        }

        return record;
    }

    /// <summary>The tenant's connection, or null (also for another tenant's).</summary>
    public async Task<ConnectionRecord?> FindAsync(Guid tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{Columns} WHERE tenant_id = @t AND id = @id", Read, cancellationToken,
            ("t", tenantId.ToString()), ("id", id.ToString()));
        return rows.Count == 0 ? null : await WithSharesAsync(connection, rows[0], cancellationToken);
    }

    /// <summary>The connections of the environment the user owns or has been given.</summary>
    public async Task<IReadOnlyList<ConnectionRecord>> ListAsync(Guid tenantId, Guid environmentId, Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null,
            $"{Columns} WHERE tenant_id = @t AND environment_id = @e AND (owner_id = @u OR id IN (SELECT connection_id FROM apim_connection_shares WHERE user_id = @u)) ORDER BY created_at",
            Read, cancellationToken, ("t", tenantId.ToString()), ("e", environmentId.ToString()), ("u", userId.ToString()));
        var result = new List<ConnectionRecord>(rows.Count);
        foreach (var row in rows)
        {
            result.Add(await WithSharesAsync(connection, row, cancellationToken));
        }

        return result;
    }

    /// <summary>The connection waiting for the OAuth redirect with this state, if the state has not expired.</summary>
    public async Task<ConnectionRecord?> FindByOAuthStateAsync(string state, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{Columns} WHERE oauth_state = @s AND oauth_state_expires > @now", Read, cancellationToken,
            ("s", TokenHasher.Hash(state)), ("now", Sql.Timestamp(time.GetUtcNow())));
        return rows.FirstOrDefault();
    }

    public ConnectionSecrets Unseal(ConnectionRecord record) => record.SealedSecrets is null
        ? new ConnectionSecrets()
        : JsonSerializer.Deserialize<ConnectionSecrets>(protector.Unprotect(record.SealedSecrets, Binding(record.Id)), Json) ?? new ConnectionSecrets();

    /// <summary>
    /// As <see cref="Unseal"/>, but opened once per record read: a record remembered by <see cref="FindForCallAsync"/>
    /// is opened on its first call only, and its values are forgotten with it (they live as long as that record object,
    /// never longer than a fresh read would show them). Every call gets its own copy, which it may change.
    /// </summary>
    public ConnectionSecrets UnsealForCall(ConnectionRecord record) => UnsealShared(record).Copy();

    /// <summary>
    /// As <see cref="UnsealForCall"/> without the copy: the one instance every call of this record shares. For callers
    /// that only read it.
    /// </summary>
    public ConnectionSecrets UnsealShared(ConnectionRecord record) =>
        _unsealed.TryGetValue(record, out var open) ? open : _unsealed.GetValue(record, Unseal);

    /// <summary>Replaces the sealed secrets and sets the status; clears a pending OAuth state.</summary>
    public async Task UpdateSecretsAsync(ConnectionRecord record, ConnectionSecrets secrets, string status, string? reason, CancellationToken cancellationToken)
    {
        Forget(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null,
            "UPDATE apim_connections SET secrets = @s, status = @st, status_reason = @r, oauth_state = NULL, oauth_state_expires = NULL WHERE id = @id AND tenant_id = @t",
            cancellationToken, ("s", Seal(record.Id, secrets)), ("st", status), ("r", reason), ("id", record.Id.ToString()), ("t", record.TenantId.ToString()));
        Forget(record);
    }

    public async Task SetStatusAsync(ConnectionRecord record, string status, string? reason, CancellationToken cancellationToken)
    {
        Forget(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "UPDATE apim_connections SET status = @st, status_reason = @r WHERE id = @id AND tenant_id = @t", cancellationToken,
            ("st", status), ("r", reason), ("id", record.Id.ToString()), ("t", record.TenantId.ToString()));
        Forget(record);
    }

    public async Task<bool> DeleteAsync(ConnectionRecord record, CancellationToken cancellationToken)
    {
        Forget(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, transaction, "DELETE FROM apim_connection_shares WHERE connection_id = @id", cancellationToken, ("id", record.Id.ToString()));
        var changed = await Sql.ExecuteAsync(connection, transaction, "DELETE FROM apim_connections WHERE id = @id AND tenant_id = @t", cancellationToken,
            ("id", record.Id.ToString()), ("t", record.TenantId.ToString()));
        await transaction.CommitAsync(cancellationToken);
        Forget(record);
        return changed > 0;
    }

    /// <summary>Shares the connection with a user. Idempotent.</summary>
    public async Task ShareAsync(ConnectionRecord record, Guid userId, CancellationToken cancellationToken)
    {
        Forget(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "DELETE FROM apim_connection_shares WHERE connection_id = @c AND user_id = @u", cancellationToken,
            ("c", record.Id.ToString()), ("u", userId.ToString()));
        await Sql.ExecuteAsync(connection, null, "INSERT INTO apim_connection_shares (connection_id, user_id) VALUES (@c, @u)", cancellationToken,
            ("c", record.Id.ToString()), ("u", userId.ToString()));
        Forget(record);
    }

    /// <summary>Stops sharing with a user; false when it was not shared with them.</summary>
    public async Task<bool> UnshareAsync(ConnectionRecord record, Guid userId, CancellationToken cancellationToken)
    {
        Forget(record);
        await using var connection = await database.OpenAsync(cancellationToken);
        var removed = await Sql.ExecuteAsync(connection, null, "DELETE FROM apim_connection_shares WHERE connection_id = @c AND user_id = @u", cancellationToken,
            ("c", record.Id.ToString()), ("u", userId.ToString())) > 0;
        Forget(record);
        return removed;
    }

    private void Forget(ConnectionRecord record) => _remembered.TryRemove((record.TenantId, record.Id), out _);

    private static string Binding(Guid id) => $"apim-connection:{id}";

    private string Seal(Guid id, ConnectionSecrets secrets) => protector.Protect(JsonSerializer.SerializeToUtf8Bytes(secrets, Json), Binding(id));

    private static async Task<ConnectionRecord> WithSharesAsync(DbConnection connection, ConnectionRecord record, CancellationToken cancellationToken)
    {
        var shares = await Sql.QueryAsync(connection, null, "SELECT user_id FROM apim_connection_shares WHERE connection_id = @c ORDER BY user_id",
            r => Guid.Parse(r.GetString(0)), cancellationToken, ("c", record.Id.ToString()));
        return record with { SharedWith = shares };
    }

    private static ConnectionRecord Read(DbDataReader r) => new(
        Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), Guid.Parse(r.GetString(2)), Guid.Parse(r.GetString(3)), r.GetString(4),
        r.NullableString(5), r.NullableString(6),
        JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(7), Json) ?? [],
        r.NullableString(8) is { } oauth ? JsonSerializer.Deserialize<OAuthConfig>(oauth, Json) : null,
        r.NullableString(9), r.GetString(10), r.NullableString(11), Sql.ParseTimestamp(r.GetString(12)), []);
}
