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
/// Runs Data API requests that arrive over the bus: opens the credential envelope with the cluster's private key (held
/// only in this process), connects to the data source, and streams the OData answer straight into the bus response —
/// nothing is spooled to disk. Schemas are read once per data source version and cached. Thread-safe.
/// </summary>
internal sealed class DataSourceHandler(Guid clusterId, RSA privateKey, Action<string> log) : IBusHandler
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<(Guid, DateTimeOffset), Lazy<Task<DataEngine>>> _engines = new();

    public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        // Row writes of connector connections (API management) are handled in ConnectorWrites.
        if (request.Operation == ConnectorWrites.Operation)
        {
            await ConnectorWrites.HandleAsync(clusterId, privateKey, log, request, response, cancellationToken);
            return;
        }

        if (request.Operation != GatewayOperations.DataRequest)
        {
            throw new BusException("not-supported", $"This gateway does not know the operation '{request.Operation}'.");
        }

        var message = JsonSerializer.Deserialize<DataRequestMessage>(request.Body.Span, Web) ?? throw new BusException("bad-request", "The request is empty.");
        if (message.ClusterId != clusterId)
        {
            throw new BusException("bad-request", "The request is for another gateway cluster.");
        }

        var source = message.DataSource;
        await using var connection = await OpenAsync(source, cancellationToken);
        var dialect = DialectOf(source.Type);
        var serviceRoot = new Uri(message.ServiceRoot);
        StartOnWriteStream? body = null;
        try
        {
            var engine = await EngineAsync(source, connection, dialect);
            switch (message.Kind)
            {
                case "service":
                    await response.StartAsync(200, Head("application/json; odata.metadata=minimal", null), cancellationToken);
                    await engine.WriteServiceDocumentAsync(response.Body, serviceRoot, cancellationToken);
                    break;
                case "metadata":
                    using (var buffer = new MemoryStream())
                    {
                        engine.WriteMetadata(buffer);
                        await response.StartAsync(200, Head("application/xml", null), cancellationToken);
                        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken);
                    }

                    break;
                default:
                    var limits = message.MaxPageSize is { } size ? new QueryLimits { PageSize = Math.Min(size, 5000) } : null;
                    var plan = engine.ParseQuery(message.EntitySet ?? "", message.Key, message.Options, limits);
                    var applied = message.MaxPageSize is { } m ? $"odata.maxpagesize={Math.Min(m, 5000)}" : null;
                    body = new StartOnWriteStream(response, Head("application/json; odata.metadata=minimal", applied));
                    await engine.ExecuteQueryAsync(connection, plan, body, serviceRoot, cancellationToken);
                    await body.EnsureStartedAsync(cancellationToken);

                    break;
            }
        }
        catch (DataRequestException e) when (body is null || !body.Started)
        {
            // Nothing of the answer was sent yet when the engine rejects a request; the error goes out as the answer.
            await response.StartAsync(e.StatusCode, Head("application/json", null), cancellationToken);
            await using var writer = new Utf8JsonWriter(response.Body);
            DataEngine.WriteError(writer, e);
            await writer.FlushAsync(cancellationToken);
        }
    }

    internal static SqlDialect DialectOf(string type) => type switch
    {
        "postgresql" => SqlDialect.PostgreSql,
        "sqlite" => SqlDialect.Sqlite,
        "sqlserver" => SqlDialect.SqlServer,
        _ => throw new BusException("bad-request", $"This gateway does not support data sources of type '{type}'."),
    };

    /// <summary>The provider connection string for a data source (with the decrypted credentials; never log it).</summary>
    internal static string ConnectionString(DataSourceDescriptor source, string? username, string? password) => source.Type switch
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
        "sqlite" => new SqliteConnectionStringBuilder { DataSource = source.Connection.Path, Mode = SqliteOpenMode.ReadOnly }.ConnectionString,
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

    private async Task<DbConnection> OpenAsync(DataSourceDescriptor source, CancellationToken cancellationToken)
    {
        byte[] clear;
        try
        {
            clear = GatewayEnvelope.Open(privateKey, source.EncryptedCredentials, GatewayOperations.CredentialsAssociatedData(clusterId));
        }
        catch (GatewayCryptoException e)
        {
            log($"The credentials of data source '{source.Name}' cannot be opened: {e.Message}");
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable,
                $"The credentials of data source '{source.Name}' cannot be decrypted by this gateway: they were altered or sealed for another cluster's key. Set them again.");
        }

        string? username = null, password = null;
        try
        {
            using var json = JsonDocument.Parse(clear);
            username = json.RootElement.TryGetProperty("username", out var u) ? u.GetString() : null;
            password = json.RootElement.TryGetProperty("password", out var p) ? p.GetString() : null;
        }
        catch (JsonException)
        {
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable, $"The credentials of data source '{source.Name}' are not a JSON object with username and password.");
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
            "postgresql" => new NpgsqlConnection(ConnectionString(source, username, password)),
            "sqlite" => new SqliteConnection(ConnectionString(source, username, password)),
            _ => new SqlConnection(ConnectionString(source, username, password)),
        };
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is DbException or SocketException or TimeoutException or InvalidOperationException)
        {
            await connection.DisposeAsync();
            var where = source.Type == "sqlite" ? "its file" : $"{source.Connection.Host}:{source.Connection.Port}";
            if (IsLoginFailure(e))
            {
                // The database's own error (code and text) is passed on: it names the user at most, never the password.
                var said = DatabaseError(e);
                log($"Data source '{source.Name}' refused the login: {said}");
                throw new BusException(GatewayErrorCodes.DataSourceLoginFailed, $"Data source '{source.Name}' refused the user name or password stored for it: {said}");
            }

            log($"Data source '{source.Name}' at {where} cannot be reached ({e.GetType().Name}).");
            throw new BusException(GatewayErrorCodes.DataSourceUnreachable, $"Data source '{source.Name}' at {where} cannot be reached from the gateway.");
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

    private async Task<DataEngine> EngineAsync(DataSourceDescriptor source, DbConnection connection, SqlDialect dialect)
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

    private static byte[] Head(string contentType, string? preferenceApplied) =>
        JsonSerializer.SerializeToUtf8Bytes(new DataResponseHead(contentType, preferenceApplied), Web);

    /// <summary>Sends the head with the first byte, so that an error found before any row is still a clean error answer.</summary>
    private sealed class StartOnWriteStream(IBusResponseWriter response, byte[] head) : Stream
    {
        public bool Started { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public async Task EnsureStartedAsync(CancellationToken cancellationToken)
        {
            if (!Started)
            {
                Started = true;
                await response.StartAsync(200, head, cancellationToken);
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await EnsureStartedAsync(cancellationToken);
            await response.Body.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
