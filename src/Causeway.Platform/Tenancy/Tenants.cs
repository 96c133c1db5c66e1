using System.Data.Common;
using Causeway.Platform.Database;
using Causeway.Security;

namespace Causeway.Platform.Tenancy;

/// <summary>A tenant: the isolation boundary. Nothing of one tenant is visible to another.</summary>
public sealed record Tenant(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>A user of one tenant.</summary>
public sealed record User(Guid Id, Guid TenantId, string Name, string? Email, bool IsTenantAdmin, bool IsOperator, DateTimeOffset CreatedAt);

/// <summary>A bearer token's metadata; the token itself is shown once, at issue, and stored only as a hash.</summary>
public sealed record TokenInfo(Guid Id, Guid UserId, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>Who is calling: the user behind a valid token.</summary>
public sealed record Caller(Guid UserId, Guid TenantId, string UserName, bool IsTenantAdmin, bool IsOperator);

/// <summary>Why a token was not accepted.</summary>
public enum TokenRejection
{
    /// <summary>No token with that value exists.</summary>
    Unknown,

    /// <summary>The token's expiry has passed.</summary>
    Expired,

    /// <summary>The token was revoked.</summary>
    Revoked,
}

/// <summary>Components that must act when a tenant is created (the Default environment, for example).</summary>
public interface ITenantLifecycle
{
    /// <summary>Runs after the tenant and its administrator exist.</summary>
    Task TenantCreatedAsync(Tenant tenant, User administrator, CancellationToken cancellationToken);
}

/// <summary>Thrown for a request that conflicts with existing state (a duplicate name, for example).</summary>
public sealed class ConflictException(string message) : Exception(message);

/// <summary>
/// Tenants, users and tokens in the platform database. Every query that takes a tenant id filters by it, so a caller can
/// never reach another tenant's rows. Thread-safe.
/// </summary>
public sealed class TenantStore(SqlDatabase database, TimeProvider time, IEnumerable<ITenantLifecycle> lifecycle)
{
    /// <summary>
    /// How long an accepted token is remembered without asking the database. Revocation through this process clears the
    /// memory at once; a revocation made through another node of a scaled deployment takes effect within this time.
    /// </summary>
    public static readonly TimeSpan AcceptedTokenMemory = TimeSpan.FromSeconds(10);

    private const int MaxRememberedTokens = 10_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Caller Caller, DateTimeOffset? ExpiresAt, long RememberedAt)> _accepted = new(StringComparer.Ordinal);

    /// <summary>Token prefix, so a leaked token is recognisable to secret scanners.</summary>
    public const string TokenPrefix = "cwt";

    internal static Migration Schema { get; } = new(1, "tenants, users, tokens", """
        CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
        CREATE TABLE users (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, email TEXT,
            is_tenant_admin INTEGER NOT NULL, is_operator INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (tenant_id, name));
        CREATE TABLE tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
        CREATE INDEX ix_users_tenant ON users (tenant_id);
        CREATE INDEX ix_tokens_user ON tokens (user_id)
        """);

    /// <summary>Counts tenants (used to detect the first start).</summary>
    public async Task<long> CountTenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, "SELECT COUNT(*) FROM tenants", r => Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        return rows[0];
    }

    /// <summary>Creates a tenant with its administrator and a first token for that administrator, then runs the lifecycle hooks.</summary>
    /// <exception cref="ConflictException">A tenant of that name exists.</exception>
    public async Task<(Tenant Tenant, User Administrator, string Token)> CreateTenantAsync(string name, string administratorName, bool administratorIsOperator, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tenant = new Tenant(Guid.NewGuid(), name, now);
        var admin = new User(Guid.NewGuid(), tenant.Id, administratorName, null, IsTenantAdmin: true, administratorIsOperator, now);
        var token = TokenHasher.NewToken(TokenPrefix);
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            try
            {
                await Sql.ExecuteAsync(connection, transaction, "INSERT INTO tenants (id, name, created_at) VALUES (@id, @name, @at)", cancellationToken,
                    ("id", tenant.Id.ToString()), ("name", name), ("at", Sql.Timestamp(now)));
            }
            catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
            {
                throw new ConflictException($"A tenant named '{name}' already exists.");
            }

            await InsertUserAsync(connection, transaction, admin, cancellationToken);
            await InsertTokenAsync(connection, transaction, admin.Id, "initial", token, null, now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var hook in lifecycle)
        {
            await hook.TenantCreatedAsync(tenant, admin, cancellationToken);
        }

        return (tenant, admin, token);
    }

    /// <summary>Every tenant (operators only).</summary>
    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, "SELECT id, name, created_at FROM tenants ORDER BY name",
            r => new Tenant(Guid.Parse(r.GetString(0)), r.GetString(1), Sql.ParseTimestamp(r.GetString(2))), cancellationToken);
    }

    /// <summary>Creates a user in a tenant.</summary>
    /// <exception cref="ConflictException">The tenant has a user of that name.</exception>
    public async Task<User> CreateUserAsync(Guid tenantId, string name, string? email, bool tenantAdmin, CancellationToken cancellationToken)
    {
        var user = new User(Guid.NewGuid(), tenantId, name, email, tenantAdmin, IsOperator: false, time.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await InsertUserAsync(connection, null, user, cancellationToken);
        }
        catch (DbException e) when (SqlDatabase.IsUniqueViolation(e))
        {
            throw new ConflictException($"A user named '{name}' already exists in this tenant.");
        }

        return user;
    }

    /// <summary>The tenant's users.</summary>
    public async Task<IReadOnlyList<User>> ListUsersAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await Sql.QueryAsync(connection, null, $"{UserColumns} WHERE tenant_id = @t ORDER BY name", ReadUser, cancellationToken, ("t", tenantId.ToString()));
    }

    /// <summary>A user of the tenant, or null (also when the user belongs to another tenant).</summary>
    public async Task<User?> FindUserAsync(Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null, $"{UserColumns} WHERE tenant_id = @t AND id = @id", ReadUser, cancellationToken,
            ("t", tenantId.ToString()), ("id", userId.ToString()));
        return rows.FirstOrDefault();
    }

    /// <summary>Issues a token for a user; the returned text is the only time the token is visible.</summary>
    public async Task<(TokenInfo Info, string Token)> IssueTokenAsync(Guid userId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        var token = TokenHasher.NewToken(TokenPrefix);
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(cancellationToken);
        var id = await InsertTokenAsync(connection, null, userId, name, token, expiresAt, now, cancellationToken);
        return (new TokenInfo(id, userId, name, now, expiresAt, null), token);
    }

    /// <summary>The tokens of a tenant's users (metadata only), optionally of one user.</summary>
    public Task<IReadOnlyList<TokenInfo>> ListTokensAsync(Guid tenantId, Guid? userId, CancellationToken cancellationToken) =>
        QueryTokensAsync(tenantId, userId is null ? "" : " AND k.user_id = @k", userId?.ToString(), cancellationToken);

    /// <summary>Finds one token's metadata within a tenant.</summary>
    public async Task<TokenInfo?> FindTokenAsync(Guid tenantId, Guid tokenId, CancellationToken cancellationToken) =>
        (await QueryTokensAsync(tenantId, " AND k.id = @k", tokenId.ToString(), cancellationToken)).FirstOrDefault();

    /// <summary>Revokes a token of the tenant. Idempotent: revoking twice keeps the first revocation time.</summary>
    /// <returns>False when the tenant has no such token.</returns>
    public async Task<bool> RevokeTokenAsync(Guid tenantId, Guid tokenId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await Sql.ExecuteAsync(connection, null,
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, @now) WHERE id = @id AND user_id IN (SELECT id FROM users WHERE tenant_id = @t)",
            cancellationToken, ("now", Sql.Timestamp(time.GetUtcNow())), ("id", tokenId.ToString()), ("t", tenantId.ToString()));
        _accepted.Clear();
        return changed > 0;
    }

    /// <summary>Resolves a presented token to its caller, or says why it is not accepted.</summary>
    public async ValueTask<(Caller? Caller, TokenRejection Rejection)> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        var hash = TokenHasher.Hash(token);
        var now = time.GetUtcNow();
        if (_accepted.TryGetValue(hash, out var remembered) && System.Diagnostics.Stopwatch.GetElapsedTime(remembered.RememberedAt) < AcceptedTokenMemory)
        {
            if (remembered.ExpiresAt is null || remembered.ExpiresAt > now)
            {
                return (remembered.Caller, default);
            }

            _accepted.TryRemove(hash, out _);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(connection, null,
            "SELECT u.id, u.tenant_id, u.name, u.is_tenant_admin, u.is_operator, k.expires_at, k.revoked_at FROM tokens k JOIN users u ON u.id = k.user_id WHERE k.hash = @h",
            r => (Caller: new Caller(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.Flag(3), r.Flag(4)), Expires: r.NullableString(5), Revoked: r.NullableString(6)),
            cancellationToken, ("h", hash));
        if (rows.Count == 0)
        {
            return (null, TokenRejection.Unknown);
        }

        var row = rows[0];
        if (row.Revoked is not null)
        {
            return (null, TokenRejection.Revoked);
        }

        DateTimeOffset? expires = row.Expires is null ? null : Sql.ParseTimestamp(row.Expires);
        if (expires <= now)
        {
            return (null, TokenRejection.Expired);
        }

        if (_accepted.Count >= MaxRememberedTokens)
        {
            _accepted.Clear();
        }

        _accepted[hash] = (row.Caller, expires, System.Diagnostics.Stopwatch.GetTimestamp());
        return (row.Caller, default);
    }

    private const string UserColumns = "SELECT id, tenant_id, name, email, is_tenant_admin, is_operator, created_at FROM users";

    private static User ReadUser(DbDataReader r) => new(
        Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.NullableString(3), r.Flag(4), r.Flag(5), Sql.ParseTimestamp(r.GetString(6)));

    private async Task<IReadOnlyList<TokenInfo>> QueryTokensAsync(Guid tenantId, string condition, string? key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sql = "SELECT k.id, k.user_id, k.name, k.created_at, k.expires_at, k.revoked_at FROM tokens k JOIN users u ON u.id = k.user_id WHERE u.tenant_id = @t" +
            condition + " ORDER BY k.created_at";
        return await Sql.QueryAsync(connection, null, sql, ReadToken, cancellationToken, ("t", tenantId.ToString()), ("k", key ?? ""));
    }

    private static TokenInfo ReadToken(DbDataReader r) => new(
        Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), Sql.ParseTimestamp(r.GetString(3)),
        r.NullableString(4) is { } e ? Sql.ParseTimestamp(e) : null, r.NullableString(5) is { } v ? Sql.ParseTimestamp(v) : null);

    private static Task<int> InsertUserAsync(DbConnection connection, DbTransaction? transaction, User user, CancellationToken cancellationToken) =>
        Sql.ExecuteAsync(connection, transaction,
            "INSERT INTO users (id, tenant_id, name, email, is_tenant_admin, is_operator, created_at) VALUES (@id, @t, @n, @e, @a, @o, @at)", cancellationToken,
            ("id", user.Id.ToString()), ("t", user.TenantId.ToString()), ("n", user.Name), ("e", user.Email), ("a", user.IsTenantAdmin ? 1 : 0),
            ("o", user.IsOperator ? 1 : 0), ("at", Sql.Timestamp(user.CreatedAt)));

    private static async Task<Guid> InsertTokenAsync(DbConnection connection, DbTransaction? transaction, Guid userId, string name, string token, DateTimeOffset? expiresAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        await Sql.ExecuteAsync(connection, transaction,
            "INSERT INTO tokens (id, user_id, name, hash, created_at, expires_at) VALUES (@id, @u, @n, @h, @at, @exp)", cancellationToken,
            ("id", id.ToString()), ("u", userId.ToString()), ("n", name), ("h", TokenHasher.Hash(token)), ("at", Sql.Timestamp(now)),
            ("exp", expiresAt is { } e ? Sql.Timestamp(e) : null));
        return id;
    }
}
