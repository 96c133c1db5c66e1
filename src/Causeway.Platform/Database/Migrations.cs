using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace Causeway.Platform.Database;

/// <summary>One forward migration. <paramref name="Sql"/> runs on both providers unless <paramref name="PostgreSql"/> overrides it.</summary>
public sealed record Migration(int Version, string Name, string Sql, string? PostgreSql = null);

/// <summary>
/// Applies versioned forward migrations, each in its own transaction, recording them in <c>schema_migrations</c>.
/// Components contribute their own migrations with version numbers in their own range (platform 1-99, environments 100-199, ...).
/// Concurrent nodes serialize on the same advisory lock, so a migration runs once.
/// </summary>
public static class Migrator
{
    private const long MigrationLock = 0x43617573_65776179; // "Causeway"

    /// <summary>Applies every migration not yet applied, in version order. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Two migrations share a version, or the database is newer than this program.</exception>
    public static async Task<int> ApplyAsync(SqlDatabase database, IEnumerable<Migration> migrations, ILogger logger, CancellationToken cancellationToken = default)
    {
        var ordered = migrations.OrderBy(m => m.Version).ToList();
        var duplicate = ordered.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Migrations {string.Join(" and ", duplicate.Select(m => m.Name))} share version {duplicate.Key}.");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            await Sql.ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken);
        }

        await Sql.ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", cancellationToken);
        var applied = 0;
        foreach (var migration in ordered)
        {
            await using var transaction = await database.BeginSerializedAsync(connection, MigrationLock, cancellationToken);
            var done = await Sql.QueryAsync(connection, transaction, "SELECT version FROM schema_migrations WHERE version = @v", r => r.GetInt64(0), cancellationToken, ("v", migration.Version));
            if (done.Count > 0)
            {
                await transaction.CommitAsync(cancellationToken);
                continue;
            }

            var text = database.Provider == DatabaseProvider.PostgreSql && migration.PostgreSql is not null ? migration.PostgreSql : migration.Sql;
            foreach (var statement in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await Sql.ExecuteAsync(connection, transaction, statement, cancellationToken);
            }

            await Sql.ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", cancellationToken,
                ("v", migration.Version), ("n", migration.Name), ("t", Sql.Timestamp(DateTimeOffset.UtcNow)));
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Version} {Name}", migration.Version, migration.Name);
            applied++;
        }

        return applied;
    }

    /// <summary>The versions recorded as applied.</summary>
    public static async Task<IReadOnlyList<long>> AppliedAsync(DbConnection connection, CancellationToken cancellationToken = default) =>
        await Sql.QueryAsync(connection, null, "SELECT version FROM schema_migrations ORDER BY version", r => r.GetInt64(0), cancellationToken);
}
