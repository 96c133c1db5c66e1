using Causeway.Bus;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client.Exceptions;

namespace Causeway.Gateway;

/// <summary>
/// This server's connection to the RabbitMQ broker when <c>Gateway:Bus</c> is <c>rabbitmq</c>: opened on first use,
/// then kept (it recovers by itself after the broker restarts). Thread-safe.
/// </summary>
public sealed class GatewayBroker(GatewayOptions options, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ILogger _logger = loggers.CreateLogger("Causeway.Gateway.Broker");
    private RabbitMqBusClient? _client;
    private bool _disposed;

    /// <summary>True when requests go through RabbitMQ.</summary>
    public bool Enabled => options.UsesRabbitMq;

    /// <summary>The connection, opened if needed (this also declares the bus exchanges that agents bind to).</summary>
    /// <exception cref="GatewayUnavailableException">The broker cannot be reached or refuses this server's user.</exception>
    public async Task<RabbitMqBusClient> ConnectAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _client) is { } ready)
        {
            return ready;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is null)
            {
                var uri = new Uri(options.RabbitMq.Uri!);
                try
                {
                    _client = await RabbitMqBusClient.ConnectAsync(new RabbitMqBusOptions
                    {
                        Uri = uri,
                        MaxMessageSize = options.MaxMessageSize,
                        ClientName = $"causeway-server {Environment.MachineName}",
                    }, cancellationToken);
                    _logger.LogInformation("Gateway bus connected to RabbitMQ at {Host}:{Port}", uri.Host, uri.Port);
                }
                catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or IOException)
                {
                    // The message of these exceptions can carry the endpoint, never the password; log the class only.
                    _logger.LogWarning("The gateway bus cannot reach RabbitMQ at {Host}:{Port} ({Error})", uri.Host, uri.Port, e.GetType().Name);
                    throw new GatewayUnavailableException($"The gateway message broker at {uri.Host}:{uri.Port} cannot be reached; retry later.");
                }
            }

            return _client;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>A client that sends to <paramref name="cluster"/>'s queue.</summary>
    public async Task<IBusClient> ClientAsync(GatewayCluster cluster, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return (await ConnectAsync(cancellationToken)).For(GatewayQueues.ClusterQueue(cluster.Id));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync();
        try
        {
            _disposed = true;
            if (_client is { } client)
            {
                _client = null;
                await client.DisposeAsync();
            }
        }
        finally
        {
            _lock.Release();
        }
    }
}
