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
/// Row writes of connector connections (the built-in "SQL via gateway" connector through API management): insert, update
/// or delete one row with the Data engine's parameterized statements, then answer with the row as it is now. Every write
/// must carry an idempotency key; the <see cref="IdempotentHandler"/> that wraps the agent's handler (see AgentRunner)
/// replays the first answer to a retry with the same key instead of writing twice. SQLite files are opened read-write
/// here, unlike for reads. Thread-safe.
/// </summary>
internal static class ConnectorWrites
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task HandleAsync(Guid clusterId, DataSourceConnections connections, Action<string> log, BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.IdempotencyKey))
        {
            throw new BusException("bad-request", "A write through the gateway needs an idempotency key.");
        }

        var message = JsonSerializer.Deserialize<DataWriteMessage>(request.Body.Span, Web) ?? throw new BusException("bad-request", "The request is empty.");
        if (message.ClusterId != clusterId)
        {
            throw new BusException("bad-request", "The request is for another gateway cluster.");
        }

        if (message.Kind is not ("insert" or "update" or "delete"))
        {
            throw new BusException("bad-request", $"Unknown write kind '{message.Kind}'.");
        }

        var answer = await RunAsync(connections, log, message, cancellationToken);
        await response.StartAsync(answer.Status, JsonSerializer.SerializeToUtf8Bytes(new DataResponseHead(answer.ContentType, null), Web), cancellationToken);
        if (answer.Body.Length > 0)
        {
            await response.Body.WriteAsync(answer.Body, cancellationToken);
        }
    }

    private static async Task<Answer> RunAsync(DataSourceConnections connections, Action<string> log, DataWriteMessage message, CancellationToken cancellationToken)
    {
        var source = message.DataSource;
        var dialect = DataSourceConnections.DialectOf(source.Type);
        await using var connection = await connections.OpenAsync(source, writable: true, cancellationToken);
        try
        {
            var engine = await connections.EngineAsync(source, connection, dialect);
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

    private sealed record Answer(int Status, string ContentType, byte[] Body);
}
