using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Causeway.Relay.HybridConnections;

/// <summary>
/// <see cref="IHybridConnectionStore"/> on a SQLite file of the relay's own. One connection per call (the provider pools
/// them); writes in transactions so a hybrid connection never exists without its rules.
/// </summary>
internal sealed class SqliteHybridConnectionStore : IHybridConnectionStore
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS hybrid_connections (
            path TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
            requires_client_authorization INTEGER NOT NULL,
            http_mode_enabled INTEGER NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS authorization_rules (
            path TEXT NOT NULL COLLATE NOCASE REFERENCES hybrid_connections(path) ON DELETE CASCADE,
            key_name TEXT NOT NULL,
            rights INTEGER NOT NULL,
            primary_key TEXT NOT NULL,
            secondary_key TEXT NOT NULL,
            PRIMARY KEY (path, key_name));
        """;

    private readonly string _connectionString;
    private readonly Lazy<Task> _initialized;

    public SqliteHybridConnectionStore(string databasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
        }.ToString();
        _initialized = new Lazy<Task>(InitializeAsync);
    }

    public async Task<HybridConnection?> GetAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadAsync(connection, path, cancellationToken);
    }

    public async Task<IReadOnlyList<HybridConnection>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var paths = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT path FROM hybrid_connections ORDER BY path";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                paths.Add(reader.GetString(0));
            }
        }

        var result = new List<HybridConnection>(paths.Count);
        foreach (var path in paths)
        {
            if (await ReadAsync(connection, path, cancellationToken) is { } hybridConnection)
            {
                result.Add(hybridConnection);
            }
        }

        return result;
    }

    public async Task<bool> TryCreateAsync(HybridConnection hybridConnection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hybridConnection);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO hybrid_connections (path, requires_client_authorization, http_mode_enabled, created_at)
                VALUES ($path, $requires, $http, $created) ON CONFLICT (path) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$path", hybridConnection.Path);
            insert.Parameters.AddWithValue("$requires", hybridConnection.RequiresClientAuthorization ? 1 : 0);
            insert.Parameters.AddWithValue("$http", hybridConnection.HttpModeEnabled ? 1 : 0);
            insert.Parameters.AddWithValue("$created", hybridConnection.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        foreach (var rule in hybridConnection.AuthorizationRules)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO authorization_rules (path, key_name, rights, primary_key, secondary_key)
                VALUES ($path, $name, $rights, $primary, $secondary)
                """;
            command.Parameters.AddWithValue("$path", hybridConnection.Path);
            command.Parameters.AddWithValue("$name", rule.KeyName);
            command.Parameters.AddWithValue("$rights", (int)rule.Rights);
            command.Parameters.AddWithValue("$primary", rule.PrimaryKey);
            command.Parameters.AddWithValue("$secondary", rule.SecondaryKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM hybrid_connections WHERE path = $path";
        command.Parameters.AddWithValue("$path", path);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static async Task<HybridConnection?> ReadAsync(SqliteConnection connection, string path, CancellationToken cancellationToken)
    {
        string storedPath;
        bool requires, http;
        DateTimeOffset created;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT path, requires_client_authorization, http_mode_enabled, created_at
                FROM hybrid_connections WHERE path = $path
                """;
            command.Parameters.AddWithValue("$path", path);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            storedPath = reader.GetString(0);
            requires = reader.GetInt64(1) != 0;
            http = reader.GetInt64(2) != 0;
            created = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        }

        var rules = new List<AuthorizationRule>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT key_name, rights, primary_key, secondary_key
                FROM authorization_rules WHERE path = $path ORDER BY rowid
                """;
            command.Parameters.AddWithValue("$path", storedPath);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rules.Add(new AuthorizationRule(reader.GetString(0), (AccessRights)reader.GetInt32(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        return new HybridConnection(storedPath, requires, http, rules, created);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await _initialized.Value;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async Task InitializeAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = Schema;
        await command.ExecuteNonQueryAsync();
    }
}
