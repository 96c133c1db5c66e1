using System.Collections.Concurrent;
using System.Data.Common;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Data;
using Causeway.Security;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Causeway.Gateway.Agent;

/// <summary>
/// Opens connections to the data sources the agent's requests name, and keeps what is costly to redo: the schema read
/// of each data source version (a <see cref="DataEngine"/>) and the provider connection string built from each
/// credential envelope. Opening an envelope is an RSA decryption with the cluster's private key (about 2 ms of CPU at
/// 3072 bits), so it is done once per envelope, not once per request. The clear credentials are kept only here, in the
/// agent's memory, inside connection strings the database drivers hold in their pools anyway. Thread-safe.
/// </summary>
internal sealed class DataSourceConnections(Guid clusterId, RSA privateKey, Action<string> log)
{
    /// <summary>Most connection strings remembered; beyond it the memory is cleared and refilled as requests arrive.</summary>
    internal const int MaxRemembered = 1024;

    private readonly ConcurrentDictionary<ConnectionKey, string> _connectionStrings = new();
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<Task<DataEngine>>> _engines = new();

    /// <summary>How many envelopes were opened with the private key (each one once while it stays remembered).</summary>
    public long EnvelopesOpened => Interlocked.Read(ref _envelopesOpened);

    private long _envelopesOpened;

    /// <summary>
    /// Opens a connection to the data source. SQLite files are opened read-only unless <paramref name="writable"/>.
    /// </summary>
    /// <exception cref="BusException">The credentials cannot be opened, the database refused the login or cannot be reached.</exception>
    public async Task<DbConnection> OpenAsync(DataSourceDescriptor source, bool writable, CancellationToken cancellationToken)
    {
        var key = new ConnectionKey(source.Type, source.Connection, source.EncryptedCredentials, writable);
        if (!_connectionStrings.TryGetValue(key, out var connectionString))
        {
            connectionString = Build(source, writable);
            if (_connectionStrings.Count >= MaxRemembered)
            {
                _connectionStrings.Clear();
            }

            _connectionStrings[key] = connectionString;
        }

        if (source.Type == "sqlite" && !File.Exists(source.Connection.Path))
        {
            throw new BusException(GatewayErrorCodes.DataSourceUnreachable, $"Data source '{source.Name}': the file does not exist on the gateway's machine.");
        }

        DbConnection connection = source.Type switch
        {
            "postgresql" => new NpgsqlConnection(connectionString),
            "sqlite" => new SqliteConnection(connectionString),
            _ => new SqlConnection(connectionString),
        };
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is DbException or SocketException or TimeoutException or InvalidOperationException)
        {
            await connection.DisposeAsync();
            if (IsLoginFailure(e))
            {
                // A refused login may be a password changed since: forget the string so the next request rebuilds it.
                _connectionStrings.TryRemove(key, out _);

                // The database's own error (code and text) is passed on: it names the user at most, never the password.
                var said = DatabaseError(e);
                log($"Data source '{source.Name}' refused the login: {said}");
                throw new BusException(GatewayErrorCodes.DataSourceLoginFailed, $"Data source '{source.Name}' refused the user name or password stored for it: {said}");
            }

            var where = source.Type == "sqlite" ? "its file" : $"{source.Connection.Host}:{source.Connection.Port}";
            log($"Data source '{source.Name}' at {where} cannot be reached ({e.GetType().Name}).");
            throw new BusException(GatewayErrorCodes.DataSourceUnreachable, $"Data source '{source.Name}' at {where} cannot be reached from the gateway.");
        }
    }

    /// <summary>The engine for a data source version; its schema is read once through <paramref name="connection"/>.</summary>
    public async Task<DataEngine> EngineAsync(DataSourceDescriptor source, DbConnection connection, SqlDialect dialect)
    {
        var lazy = _engines.GetOrAdd((source.Id, source.Version), _ => new Lazy<Task<DataEngine>>(async () =>
            new DataEngine(await SchemaReader.ReadAsync(connection, dialect), dialect)));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            _engines.TryRemove((source.Id, source.Version), out _);
            throw;
        }
    }

    /// <summary>The dialect of a data source type.</summary>
    public static SqlDialect DialectOf(string type) => type switch
    {
        "postgresql" => SqlDialect.PostgreSql,
        "sqlite" => SqlDialect.Sqlite,
        "sqlserver" => SqlDialect.SqlServer,
        _ => throw new BusException("bad-request", $"This gateway does not support data sources of type '{type}'."),
    };

    /// <summary>The provider connection string for a data source (with the decrypted credentials; never log it).</summary>
    internal static string ConnectionString(DataSourceDescriptor source, string? username, string? password, bool writable) => source.Type switch
    {
        "postgresql" => new NpgsqlConnectionStringBuilder
        {
            Host = source.Connection.Host,
            Port = source.Connection.Port ?? 5432,
            Database = source.Connection.Database,
            Username = username,
            Password = password,
            Timeout = 15,
            ApplicationName = "causeway-gateway",
        }.ConnectionString,
        "sqlite" => writable
            ? new SqliteConnectionStringBuilder { DataSource = source.Connection.Path, Mode = SqliteOpenMode.ReadWrite, ForeignKeys = true }.ConnectionString
            : new SqliteConnectionStringBuilder { DataSource = source.Connection.Path, Mode = SqliteOpenMode.ReadOnly }.ConnectionString,
        "sqlserver" => new SqlConnectionStringBuilder
        {
            DataSource = source.Connection.Port is { } port ? $"{source.Connection.Host},{port}" : source.Connection.Host,
            InitialCatalog = source.Connection.Database,
            UserID = username,
            Password = password,
            Encrypt = true,
            ConnectTimeout = 15,
            ApplicationName = "causeway-gateway",
        }.ConnectionString,
        _ => throw new BusException("bad-request", $"This gateway does not support data sources of type '{source.Type}'."),
    };

    private string Build(DataSourceDescriptor source, bool writable)
    {
        byte[] clear;
        try
        {
            clear = GatewayEnvelope.Open(privateKey, source.EncryptedCredentials, GatewayOperations.CredentialsAssociatedData(clusterId));
            Interlocked.Increment(ref _envelopesOpened);
        }
        catch (GatewayCryptoException e)
        {
            log($"The credentials of data source '{source.Name}' cannot be opened: {e.Message}");
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable,
                $"The credentials of data source '{source.Name}' cannot be decrypted by this gateway: they were altered or sealed for another cluster's key. Set them again.");
        }

        try
        {
            using var json = JsonDocument.Parse(clear);
            var username = json.RootElement.TryGetProperty("username", out var u) ? u.GetString() : null;
            var password = json.RootElement.TryGetProperty("password", out var p) ? p.GetString() : null;
            return ConnectionString(source, username, password, writable);
        }
        catch (JsonException)
        {
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable, $"The credentials of data source '{source.Name}' are not a JSON object with username and password.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    private static string DatabaseError(Exception e) => e switch
    {
        PostgresException pg => $"PostgreSQL {pg.SqlState}: {pg.MessageText}",
        SqlException sql => $"SQL Server {sql.Number}: {sql.Message}",
        _ => e.GetType().Name,
    };

    private static bool IsLoginFailure(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is "28P01" or "28000",
        SqlException sql => sql.Number is 18456,
        _ => false,
    };

    private readonly record struct ConnectionKey(string Type, DataSourceConnection Connection, string EncryptedCredentials, bool Writable);
}
