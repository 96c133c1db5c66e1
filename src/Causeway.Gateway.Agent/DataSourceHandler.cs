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
/// Runs Data API requests that arrive over the bus: connects to the data source with the credentials only this process
/// can open (see <see cref="DataSourceConnections"/>), and streams the OData answer straight into the bus response —
/// nothing is spooled to disk. Schemas are read once per data source version and cached. Thread-safe.
/// </summary>
internal sealed class DataSourceHandler(Guid clusterId, DataSourceConnections connections, Action<string> log) : IBusHandler
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        // Row writes of connector connections (API management) are handled in ConnectorWrites.
        if (request.Operation == GatewayOperations.DataWrite)
        {
            await ConnectorWrites.HandleAsync(clusterId, connections, log, request, response, cancellationToken);
            return;
        }

        if (request.Operation != GatewayOperations.DataRequest)
        {
            throw new BusException("not-supported", $"This gateway does not know the operation '{request.Operation}'.");
        }

        var message = JsonSerializer.Deserialize(request.Body.Span, GatewayJson.Default.DataRequestMessage) ?? throw new BusException("bad-request", "The request is empty.");
        if (message.ClusterId != clusterId)
        {
            throw new BusException("bad-request", "The request is for another gateway cluster.");
        }

        var source = message.DataSource;
        await using var connection = await connections.OpenAsync(source, writable: false, cancellationToken);
        var dialect = DataSourceConnections.DialectOf(source.Type);
        var serviceRoot = new Uri(message.ServiceRoot);
        StartOnWriteStream? body = null;
        try
        {
            var engine = await connections.EngineAsync(source, connection, dialect);
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

    private static byte[] Head(string contentType, string? preferenceApplied) => preferenceApplied is null
        ? Heads.GetOrAdd(contentType, c => JsonSerializer.SerializeToUtf8Bytes(new DataResponseHead(c, null), Web))
        : JsonSerializer.SerializeToUtf8Bytes(new DataResponseHead(contentType, preferenceApplied), Web);

    /// <summary>The heads without a preference (a handful of content types), serialized once.</summary>
    private static readonly ConcurrentDictionary<string, byte[]> Heads = new(StringComparer.Ordinal);

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
