using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Causeway.Platform.Database;

/// <summary>The database engines Causeway runs on.</summary>
public enum DatabaseProvider
{
    /// <summary>Embedded SQLite files (the default; nothing to install).</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (scaled deployments).</summary>
    PostgreSql,
}

/// <summary>
/// Opens connections to one database of either provider. Both providers accept the same SQL here: the platform's schema
/// keeps to TEXT, INTEGER and BIGINT columns, ISO-8601 UTC text timestamps and <c>@name</c> parameters.
/// Thread-safe; connections are pooled by the providers.
/// </summary>
public sealed class SqlDatabase
{
    /// <summary>Creates an accessor for the database named by <paramref name="connectionString"/>.</summary>
    public SqlDatabase(DatabaseProvider provider, string connectionString)
    {
        Provider = provider;
        ConnectionString = connectionString;
    }

    /// <summary>The engine.</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>The connection string; never logged (it may hold a password).</summary>
    public string ConnectionString { get; }

    /// <summary>Opens a connection; SQLite connections get foreign keys on.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = Provider == DatabaseProvider.Sqlite
            ? new SqliteConnection(ConnectionString)
            : new NpgsqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Provider == DatabaseProvider.Sqlite)
            {
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA foreign_keys = ON;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        return connection;
    }

    /// <summary>
    /// Begins a transaction that serializes with every other writer of the same <paramref name="lockKey"/>: SQLite's
    /// BEGIN IMMEDIATE takes the database write lock; PostgreSQL takes a transaction-scoped advisory lock.
    /// </summary>
    public async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, long lockKey, CancellationToken cancellationToken = default)
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            return ((SqliteConnection)connection).BeginTransaction(IsolationLevel.Serializable, deferred: false);
        }

        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = Sql.Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", ("key", lockKey));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    /// <summary>True when the exception is a unique-constraint violation of either provider.</summary>
    public static bool IsUniqueViolation(DbException exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}

/// <summary>Small helpers that keep ADO.NET code short. Every value goes in as a parameter.</summary>
public static class Sql
{
    /// <summary>Creates a command with named parameters (<c>@name</c> in the text).</summary>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string text, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = text;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>Runs a statement and returns the number of rows it changed.</summary>
    public static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string text, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, text, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs a query and maps every row.</summary>
    public static async Task<List<T>> QueryAsync<T>(DbConnection connection, DbTransaction? transaction, string text, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, text, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The ISO-8601 text form in which timestamps are stored (sortable, UTC).</summary>
    public static string Timestamp(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses a stored timestamp.</summary>
    public static DateTimeOffset ParseTimestamp(string value) => DateTimeOffset.Parse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);

    /// <summary>Reads a nullable text column.</summary>
    public static string? NullableString(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Reads a 0/1 integer column as a boolean.</summary>
    public static bool Flag(this DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture) != 0;
}
