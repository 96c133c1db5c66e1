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

/// <summary>Body of <see cref="ConnectorWrites.Operation"/>; the server's <c>Causeway.Gateway.GatewayWriteMessage</c> has the same JSON shape.</summary>
internal sealed record ConnectorWriteMessage(Guid ClusterId, DataSourceDescriptor DataSource, string Kind, string EntitySet, string? Key, JsonElement? Row, string ServiceRoot);

/// <summary>
/// Row writes of connector connections (the built-in "SQL via gateway" connector through API management): insert, update
/// or delete one row with the Data engine's parameterized statements, then answer with the row as it is now. Every write
/// must carry an idempotency key; the <see cref="IdempotentHandler"/> that wraps the agent's handler (see AgentRunner)
/// replays the first answer to a retry with the same key instead of writing twice. SQLite files are opened read-write
/// here, unlike for reads. Thread-safe.
/// </summary>
internal static class ConnectorWrites
{
    /// <summary>The bus operation (the server's <c>GatewayConnectionOperations.Write</c>).</summary>
    public const string Operation = "connector.write";

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly ConcurrentDictionary<(Guid Source, DateTimeOffset Version), Lazy<Task<DataEngine>>> Engines = new();

    public static async Task HandleAsync(Guid clusterId, RSA privateKey, Action<string> log, BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.IdempotencyKey))
        {
            throw new BusException("bad-request", "A write through the gateway needs an idempotency key.");
        }

        var message = JsonSerializer.Deserialize<ConnectorWriteMessage>(request.Body.Span, Web) ?? throw new BusException("bad-request", "The request is empty.");
        if (message.ClusterId != clusterId)
        {
            throw new BusException("bad-request", "The request is for another gateway cluster.");
        }

        if (message.Kind is not ("insert" or "update" or "delete"))
        {
            throw new BusException("bad-request", $"Unknown write kind '{message.Kind}'.");
        }

        var answer = await RunAsync(clusterId, privateKey, log, message, cancellationToken);
        await response.StartAsync(answer.Status, JsonSerializer.SerializeToUtf8Bytes(new DataResponseHead(answer.ContentType, null), Web), cancellationToken);
        if (answer.Body.Length > 0)
        {
            await response.Body.WriteAsync(answer.Body, cancellationToken);
        }
    }

    private static async Task<Answer> RunAsync(Guid clusterId, RSA privateKey, Action<string> log, ConnectorWriteMessage message, CancellationToken cancellationToken)
    {
        var source = message.DataSource;
        var dialect = DataSourceHandler.DialectOf(source.Type);
        await using var connection = await OpenAsync(clusterId, privateKey, log, source, cancellationToken);
        try
        {
            var engine = await EngineAsync(source, connection, dialect);
            var body = message.Row;
            var kind = message.Kind switch { "insert" => WriteKind.Insert, "update" => WriteKind.Update, _ => WriteKind.Delete };
            if (kind != WriteKind.Delete && body is not { ValueKind: JsonValueKind.Object })
            {
                throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "The row must be a JSON object of column values.");
            }

            if (kind != WriteKind.Insert && string.IsNullOrEmpty(message.Key))
            {
                throw new DataRequestException(400, DataErrorCodes.InvalidQuery, "The row's key is missing.");
            }

            var command = engine.BuildWrite(kind, message.EntitySet, kind == WriteKind.Insert ? null : message.Key, kind == WriteKind.Delete ? null : body);
            var result = await engine.ExecuteWriteAsync(connection, command, cancellationToken);
            log($"Wrote to data source '{source.Name}': {message.Kind} in '{message.EntitySet}'.");
            if (kind == WriteKind.Delete)
            {
                return new Answer(204, "application/json", []);
            }

            // The row as the database has it now (defaults, computed columns, the new version).
            using var row = new MemoryStream();
            var plan = engine.ParseQuery(message.EntitySet, result.EntityId, new Dictionary<string, string>(StringComparer.Ordinal));
            await engine.ExecuteQueryAsync(connection, plan, row, new Uri(message.ServiceRoot), cancellationToken);
            return new Answer(kind == WriteKind.Insert ? 201 : 200, "application/json; odata.metadata=minimal", row.ToArray());
        }
        catch (DataRequestException e)
        {
            using var buffer = new MemoryStream();
            await using (var writer = new Utf8JsonWriter(buffer))
            {
                DataEngine.WriteError(writer, e);
            }

            return new Answer(e.StatusCode, "application/json", buffer.ToArray());
        }
    }

    private static async Task<DbConnection> OpenAsync(Guid clusterId, RSA privateKey, Action<string> log, DataSourceDescriptor source, CancellationToken cancellationToken)
    {
        string? username = null, password = null;
        byte[] clear;
        try
        {
            clear = GatewayEnvelope.Open(privateKey, source.EncryptedCredentials, GatewayOperations.CredentialsAssociatedData(clusterId));
        }
        catch (GatewayCryptoException e)
        {
            log($"The credentials of connection '{source.Name}' cannot be opened: {e.Message}");
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable,
                $"The credentials of '{source.Name}' cannot be decrypted by this gateway: they were altered or sealed for another cluster's key.");
        }

        try
        {
            using var json = JsonDocument.Parse(clear);
            username = json.RootElement.TryGetProperty("username", out var u) ? u.GetString() : null;
            password = json.RootElement.TryGetProperty("password", out var p) ? p.GetString() : null;
        }
        catch (JsonException)
        {
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable, $"The credentials of '{source.Name}' are not a JSON object with username and password.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }

        if (source.Type == "sqlite" && !File.Exists(source.Connection.Path))
        {
            throw new BusException(GatewayErrorCodes.DataSourceUnreachable, $"Data source '{source.Name}': the file does not exist on the gateway's machine.");
        }

        DbConnection connection = source.Type switch
        {
            "sqlite" => new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source.Connection.Path, Mode = SqliteOpenMode.ReadWrite, ForeignKeys = true }.ConnectionString),
            "postgresql" => new NpgsqlConnection(DataSourceHandler.ConnectionString(source, username, password)),
            _ => new SqlConnection(DataSourceHandler.ConnectionString(source, username, password)),
        };
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is DbException or SocketException or TimeoutException or InvalidOperationException)
        {
            await connection.DisposeAsync();
            if (e is PostgresException { SqlState: "28P01" or "28000" } or SqlException { Number: 18456 })
            {
                // The database's own error names the user at most, never the password.
                var said = e is PostgresException pg ? $"PostgreSQL {pg.SqlState}: {pg.MessageText}" : $"SQL Server 18456: {e.Message}";
                log($"Data source '{source.Name}' refused the login: {said}");
                throw new BusException(GatewayErrorCodes.DataSourceLoginFailed, $"Data source '{source.Name}' refused the user name or password stored for it: {said}");
            }

            var where = source.Type == "sqlite" ? "its file" : $"{source.Connection.Host}:{source.Connection.Port}";
            log($"Data source '{source.Name}' at {where} cannot be reached ({e.GetType().Name}).");
            throw new BusException(GatewayErrorCodes.DataSourceUnreachable, $"Data source '{source.Name}' at {where} cannot be reached from the gateway.");
        }
    }

    private static async Task<DataEngine> EngineAsync(DataSourceDescriptor source, DbConnection connection, SqlDialect dialect)
    {
        var lazy = Engines.GetOrAdd((source.Id, source.Version), _ => new Lazy<Task<DataEngine>>(async () =>
            new DataEngine(await SchemaReader.ReadAsync(connection, dialect), dialect)));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            Engines.TryRemove((source.Id, source.Version), out _);
            throw;
        }
    }

    private sealed record Answer(int Status, string ContentType, byte[] Body);
}
