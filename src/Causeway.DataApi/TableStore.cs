using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Causeway.Data;
using Causeway.Environments;
using Causeway.Platform.Database;
using Microsoft.Extensions.Logging;

namespace Causeway.DataApi;

/// <summary>
/// The tables of each environment. Definitions live in the environment's own database (<c>causeway_tables</c>) next to the
/// tables they describe, and every change — DDL, definition and the schema version — is one serialized transaction, so a
/// failed change leaves nothing half-made. A <see cref="DataEngine"/> is cached per environment and schema version. The
/// version is re-read from the database at most every <see cref="SchemaMemory"/>: a change made through this process
/// is seen by the next request, a change made through another server process within that time. Thread-safe.
/// </summary>
public sealed class TableStore(EnvironmentDatabases databases, TimeProvider time, ILogger<TableStore> logger)
{
    private const long SchemaLock = 0x5461626c6573; // "Tables"
    private const string VersionKey = "tablesVersion";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly ConcurrentDictionary<Guid, Remembered> _snapshots = new();
    private readonly ConcurrentDictionary<string, SqlDatabase> _databases = new(StringComparer.Ordinal);

    // A remembered snapshot counts only while its generation is the current one; every change through this process bumps
    // the generation after it commits, so a read that raced with the change cannot leave a stale snapshot behind.
    private long _generation;

    /// <summary>
    /// How long a snapshot is used without re-reading the schema version from the environment's database. Changes made
    /// through this process take effect at once; this bounds how late a change made by another server process is seen.
    /// </summary>
    public static readonly TimeSpan SchemaMemory = TimeSpan.FromSeconds(2);

    private sealed record Remembered(Snapshot Snapshot, long Generation, DateTimeOffset CheckedAt);

    /// <summary>The tables of an environment with the engine that serves them.</summary>
    public sealed record Snapshot(long Version, IReadOnlyList<TableDefinition> Tables, DataEngine Engine, DatabaseProvider Provider);

    /// <summary>The environment's database.</summary>
    public SqlDatabase DatabaseOf(EnvironmentRecord environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (_databases.TryGetValue(environment.DatabaseLocation, out var known))
        {
            return known;
        }

        if (_databases.Count >= 10_000)
        {
            _databases.Clear();
        }

        return _databases[environment.DatabaseLocation] = databases.Open(environment.DatabaseLocation);
    }

    /// <summary>The current tables and engine of the environment (see <see cref="SchemaMemory"/> for how current).</summary>
    public async Task<Snapshot> GetAsync(EnvironmentRecord environment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var generation = Volatile.Read(ref _generation);
        var now = time.GetUtcNow();
        _snapshots.TryGetValue(environment.Id, out var cached);
        if (cached is not null && cached.Generation == generation && now >= cached.CheckedAt && now - cached.CheckedAt < SchemaMemory)
        {
            return cached.Snapshot;
        }

        var database = DatabaseOf(environment);
        await using var connection = await database.OpenAsync(cancellationToken);
        var version = await VersionAsync(connection, null, cancellationToken);
        var snapshot = cached?.Snapshot;
        if (snapshot is null || snapshot.Version != version)
        {
            var tables = version == 0 ? [] : await LoadAsync(connection, null, cancellationToken);
            snapshot = new Snapshot(version, tables, new DataEngine(TableRules.ToDataSchema(tables), DialectOf(database.Provider)) { KeyAlwaysSelected = true }, database.Provider);
        }

        _snapshots[environment.Id] = new Remembered(snapshot, generation, now);
        return snapshot;
    }

    /// <summary>Creates a table with its columns.</summary>
    /// <exception cref="TableRequestException">Bad name, type, length, default or lookup target; a table of that name exists (409).</exception>
    public Task<TableDefinition> CreateTableAsync(EnvironmentRecord environment, TableDefinition request, CancellationToken cancellationToken) =>
        ChangeAsync(environment, (tables, provider) =>
        {
            var table = TableRules.NormalizeTable(request, tables);
            var ddl = new List<string> { CreateTableSql(table, provider) };
            ddl.AddRange(table.Columns!.Where(c => c.Type == "lookup").Select(c => IndexSql(table, c)));
            ddl.AddRange(TriggerSql(table, provider));
            return ([.. tables, table], table, ddl);
        }, cancellationToken);

    /// <summary>Adds a column to a table.</summary>
    /// <exception cref="TableRequestException">No such table (404); bad column; a column of that name exists (409).</exception>
    public Task<TableDefinition> AddColumnAsync(EnvironmentRecord environment, string tableName, ColumnDefinition request, CancellationToken cancellationToken) =>
        ChangeAsync(environment, (tables, provider) =>
        {
            var table = Find(tables, tableName);
            var column = TableRules.NormalizeColumn(table, request, tables.Where(t => t != table).ToList(), "column", newTable: false);
            var ddl = new List<string> { $"ALTER TABLE {Q(table.LogicalName!)} ADD COLUMN {ColumnSql(column, provider)}" };
            if (column.Type == "lookup")
            {
                ddl.Add(IndexSql(table, column));
            }

            var changed = table with { Columns = [.. table.Columns!, column] };
            return (tables.Select(t => t == table ? changed : t).ToList(), changed, ddl);
        }, cancellationToken);

    /// <summary>Removes a column (and its data) from a table.</summary>
    /// <exception cref="TableRequestException">No such table or column (404); a lookup on SQLite (400).</exception>
    public Task<TableDefinition> RemoveColumnAsync(EnvironmentRecord environment, string tableName, string columnName, CancellationToken cancellationToken) =>
        ChangeAsync(environment, (tables, provider) =>
        {
            var table = Find(tables, tableName);
            var column = table.Columns!.FirstOrDefault(c => c.LogicalName == columnName)
                ?? throw new TableRequestException("column", $"Table '{table.LogicalName}' has no column '{TableRules.Shorten(columnName)}'" +
                    (columnName == table.PrimaryKey || TableRules.SystemColumns.Contains(columnName) ? " that can be removed (system columns stay)." : "."), 404);
            if (column.Type == "lookup" && provider == DatabaseProvider.Sqlite)
            {
                throw new TableRequestException("column", $"Lookup column '{columnName}' cannot be removed from an environment whose database is SQLite (SQLite cannot drop a foreign-key column); delete and recreate the table instead.");
            }

            var sqlName = column.Type == "lookup" ? TableRules.ValueColumn(columnName) : columnName;
            var changed = table with { Columns = table.Columns!.Where(c => c != column).ToList() };
            return (tables.Select(t => t == table ? changed : t).ToList(), changed, [$"ALTER TABLE {Q(table.LogicalName!)} DROP COLUMN {Q(sqlName)}"]);
        }, cancellationToken);

    /// <summary>Deletes a table and its rows.</summary>
    /// <exception cref="TableRequestException">No such table (404); another table has a lookup to it (409).</exception>
    public Task<TableDefinition> DeleteTableAsync(EnvironmentRecord environment, string tableName, CancellationToken cancellationToken) =>
        ChangeAsync(environment, (tables, provider) =>
        {
            var table = Find(tables, tableName);
            var referencing = tables.Where(t => t != table).SelectMany(t => t.Columns!.Where(c => c.Type == "lookup" && c.Target == table.LogicalName).Select(c => $"{t.LogicalName}.{c.LogicalName}")).ToList();
            if (referencing.Count > 0)
            {
                throw new TableRequestException("logicalName", $"Table '{table.LogicalName}' is the target of lookup {string.Join(", ", referencing)}; remove those columns or tables first.", 409);
            }

            return (tables.Where(t => t != table).ToList(), table, [$"DROP TABLE {Q(table.LogicalName!)}"]);
        }, cancellationToken);

    /// <summary>The SQL dialect of a provider.</summary>
    public static SqlDialect DialectOf(DatabaseProvider provider) => provider == DatabaseProvider.PostgreSql ? SqlDialect.PostgreSql : SqlDialect.Sqlite;

    private static TableDefinition Find(IReadOnlyList<TableDefinition> tables, string name) =>
        tables.FirstOrDefault(t => t.LogicalName == name) ?? throw new TableRequestException("table", $"Table '{TableRules.Shorten(name)}' was not found.", 404);

    private delegate (IReadOnlyList<TableDefinition> Tables, TableDefinition Result, List<string> Ddl) Change(IReadOnlyList<TableDefinition> tables, DatabaseProvider provider);

    private async Task<TableDefinition> ChangeAsync(EnvironmentRecord environment, Change change, CancellationToken cancellationToken)
    {
        var database = DatabaseOf(environment);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await database.BeginSerializedAsync(connection, SchemaLock, cancellationToken);
        await Sql.ExecuteAsync(connection, transaction,
            "CREATE TABLE IF NOT EXISTS causeway_tables (logical_name TEXT PRIMARY KEY, definition TEXT NOT NULL, created_at TEXT NOT NULL, modified_at TEXT NOT NULL)", cancellationToken);
        var version = await VersionAsync(connection, transaction, cancellationToken);
        var before = await LoadAsync(connection, transaction, cancellationToken);

        // Validation first (throws before any DDL), then the engine must accept the new schema, then the DDL.
        var (after, result, ddl) = change(before, database.Provider);
        try
        {
            _ = new DataEngine(TableRules.ToDataSchema(after), DialectOf(database.Provider));
        }
        catch (ArgumentException e)
        {
            throw new TableRequestException("logicalName", $"The change would make the environment's data model inconsistent: {e.Message}");
        }

        if (database.Provider == DatabaseProvider.PostgreSql)
        {
            await Sql.ExecuteAsync(connection, transaction, TouchFunctionSql, cancellationToken);
        }

        foreach (var statement in ddl)
        {
            await Sql.ExecuteAsync(connection, transaction, statement, cancellationToken);
        }

        var now = Sql.Timestamp(time.GetUtcNow());
        var stillThere = after.FirstOrDefault(t => t.LogicalName == result.LogicalName);
        if (stillThere is null)
        {
            await Sql.ExecuteAsync(connection, transaction, "DELETE FROM causeway_tables WHERE logical_name = @n", cancellationToken, ("n", result.LogicalName));
        }
        else if (before.Any(t => t.LogicalName == result.LogicalName))
        {
            await Sql.ExecuteAsync(connection, transaction, "UPDATE causeway_tables SET definition = @d, modified_at = @at WHERE logical_name = @n", cancellationToken,
                ("d", JsonSerializer.Serialize(stillThere, Json)), ("at", now), ("n", result.LogicalName));
        }
        else
        {
            await Sql.ExecuteAsync(connection, transaction, "INSERT INTO causeway_tables (logical_name, definition, created_at, modified_at) VALUES (@n, @d, @at, @at)", cancellationToken,
                ("d", JsonSerializer.Serialize(stillThere, Json)), ("at", now), ("n", result.LogicalName));
        }

        var next = (version + 1).ToString(CultureInfo.InvariantCulture);
        if (await Sql.ExecuteAsync(connection, transaction, "UPDATE causeway_environment SET value = @v WHERE key = @k", cancellationToken, ("v", next), ("k", VersionKey)) == 0)
        {
            await Sql.ExecuteAsync(connection, transaction, "INSERT INTO causeway_environment (key, value) VALUES (@k, @v)", cancellationToken, ("v", next), ("k", VersionKey));
        }

        await transaction.CommitAsync(cancellationToken);
        Interlocked.Increment(ref _generation);
        _snapshots.TryRemove(environment.Id, out _);
        logger.LogInformation("Tables of environment {Environment} changed ({Table}); schema version {Version}", environment.Id, result.LogicalName, next);
        return stillThere ?? result;
    }

    private static async Task<long> VersionAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var rows = await Sql.QueryAsync(connection, transaction, "SELECT value FROM causeway_environment WHERE key = @k", r => r.GetString(0), cancellationToken, ("k", VersionKey));
        return rows.Count == 0 ? 0 : long.Parse(rows[0], CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<TableDefinition>> LoadAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var rows = await Sql.QueryAsync(connection, transaction, "SELECT definition FROM causeway_tables ORDER BY logical_name", r => r.GetString(0), cancellationToken);
        return rows.Select(r => JsonSerializer.Deserialize<TableDefinition>(r, Json)!).ToList();
    }

    // Identifiers come only from validated logical names (lower-case letters, digits, '_'); quoting is belt and braces.
    private static string Q(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private const string TouchFunctionSql = """
        CREATE OR REPLACE FUNCTION causeway_touch_modifiedon() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.modifiedon := (now() AT TIME ZONE 'utc'); RETURN NEW; END $$
        """;

    private static string CreateTableSql(TableDefinition table, DatabaseProvider provider)
    {
        var pg = provider == DatabaseProvider.PostgreSql;
        var now = pg ? "(now() AT TIME ZONE 'utc')" : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))";
        var stamp = pg ? "timestamp" : "TEXT";
        var columns = new List<string> { $"{Q(table.PrimaryKey)} {(pg ? "uuid" : "TEXT")} NOT NULL PRIMARY KEY" };
        columns.AddRange(table.Columns!.Select(c => ColumnSql(c, provider)));
        columns.Add($"\"createdon\" {stamp} NOT NULL DEFAULT {now}");
        columns.Add($"\"modifiedon\" {stamp} NOT NULL DEFAULT {now}");
        columns.Add($"\"versionnumber\" {(pg ? "bigint" : "INTEGER")} NOT NULL DEFAULT 1");
        return $"CREATE TABLE {Q(table.LogicalName!)} ({string.Join(", ", columns)})";
    }

    private static string IndexSql(TableDefinition table, ColumnDefinition lookup) =>
        $"CREATE INDEX {Q($"causeway_ix_{Guid.NewGuid():N}")} ON {Q(table.LogicalName!)} ({Q(TableRules.ValueColumn(lookup.LogicalName!))})";

    private static IEnumerable<string> TriggerSql(TableDefinition table, DatabaseProvider provider)
    {
        var name = Q($"causeway_touch_{table.LogicalName}");
        if (provider == DatabaseProvider.PostgreSql)
        {
            yield return $"CREATE TRIGGER {name} BEFORE UPDATE ON {Q(table.LogicalName!)} FOR EACH ROW EXECUTE FUNCTION causeway_touch_modifiedon()";
        }
        else
        {
            // Recursive triggers are off by default; the WHEN clause would stop a loop anyway.
            yield return $"CREATE TRIGGER {name} AFTER UPDATE ON {Q(table.LogicalName!)} FOR EACH ROW WHEN NEW.\"modifiedon\" IS OLD.\"modifiedon\" BEGIN " +
                $"UPDATE {Q(table.LogicalName!)} SET \"modifiedon\" = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE {Q(table.PrimaryKey)} = NEW.{Q(table.PrimaryKey)}; END";
        }
    }

    private static string ColumnSql(ColumnDefinition column, DatabaseProvider provider)
    {
        var pg = provider == DatabaseProvider.PostgreSql;
        var name = column.Type == "lookup" ? TableRules.ValueColumn(column.LogicalName!) : column.LogicalName!;
        var sqlType = (column.Type, pg) switch
        {
            ("text", true) => $"varchar({column.MaxLength!.Value.ToString(CultureInfo.InvariantCulture)})",
            ("memo", true) => "text",
            ("text" or "memo" or "datetime" or "date" or "guid" or "lookup", false) => "TEXT",
            ("integer" or "choice", true) => "integer",
            ("integer" or "choice" or "bigint" or "boolean", false) => "INTEGER",
            ("bigint", true) => "bigint",
            ("decimal" or "money", true) => "numeric",
            ("decimal" or "money", false) => "NUMERIC",
            ("float", true) => "double precision",
            ("float", false) => "REAL",
            ("boolean", true) => "boolean",
            ("datetime", true) => "timestamp",
            ("date", true) => "date",
            _ => "uuid",
        };
        var sql = new StringBuilder($"{Q(name)} {sqlType}");
        if (column.Required == true)
        {
            sql.Append(" NOT NULL");
        }

        if (column.Default is { } value)
        {
            sql.Append(" DEFAULT ").Append(Literal(column, value, pg));
        }

        if (column.Type == "lookup")
        {
            // Dataverse's default for custom relationships removes the link when the target row goes; a required link restricts.
            sql.Append($" REFERENCES {Q(column.Target!)} ({Q(column.Target + "id")}) ON DELETE {(column.Required == true ? "RESTRICT" : "SET NULL")}");
        }

        return sql.ToString();
    }

    // Defaults cannot be parameters in DDL: the value is parsed to its CLR type first and printed from that, so only
    // numbers, booleans and escaped string literals ever reach the statement.
    private static string Literal(ColumnDefinition column, JsonElement value, bool pg)
    {
        static string Text(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
        return TableRules.ParseValue(column, value, "default") switch
        {
            string s => Text(s),
            bool b => pg ? (b ? "TRUE" : "FALSE") : (b ? "1" : "0"),
            DateTime d => Text(d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.')),
            DateOnly d => Text(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            Guid g => Text(g.ToString("D")),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var other => Text(other.ToString() ?? ""),
        };
    }
}
