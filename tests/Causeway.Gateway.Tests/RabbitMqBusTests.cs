using Causeway.Bus;
using Causeway.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Causeway.Gateway.Tests;

/// <summary>One private RabbitMQ node for every test of the assembly that needs one.</summary>
[CollectionDefinition("rabbitmq")]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqServer>;

/// <summary>The bus contract over RabbitMQ: a work queue per test, one serving listener, one client.</summary>
[Collection("rabbitmq")]
public sealed class RabbitMqBusTests(RabbitMqServer broker) : BusConformanceTests
{
    private readonly string _queue = $"causeway.test.{Guid.NewGuid():N}";
    private RabbitMqBusClient _client = null!;
    private RabbitMqBusListener _listener = null!;

    private RabbitMqBusOptions Options(Uri? uri = null) => new()
    {
        Uri = uri ?? broker.AdminUri,
        MaxMessageSize = MaxMessageSize,
        PeerCheckInterval = TimeSpan.FromMilliseconds(250),
        RecoveryInterval = TimeSpan.FromMilliseconds(500),
    };

    public override async Task InitializeAsync()
    {
        _client = await RabbitMqBusClient.ConnectAsync(Options(), CancellationToken.None);
        _listener = await RabbitMqBusListener.StartAsync(Options(), _queue, _queue + ".member.", new IdempotentHandler(Handler), 40, 0, CancellationToken.None);
        Client = _client.For(_queue);
    }

    public override async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _client.DisposeAsync();
    }

    protected override Task KillServingSideAsync() => _listener.AbortAsync();

    [Fact]
    public async Task BrokerRestarted_BothSidesReconnectByThemselves_RequestsSucceedAgain()
    {
        Handler.Handle = async (request, response, ct) =>
        {
            await response.StartAsync(200, default, ct);
            await response.Body.WriteAsync(request.Body, ct);
        };
        async Task<string> EchoAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await using var response = await Client.SendAsync(new BusRequest("echo", "ping"u8.ToArray()), timeout.Token);
            return await new StreamReader(response.Body).ReadToEndAsync(timeout.Token);
        }

        Assert.Equal("ping", await EchoAsync());

        await broker.StopAsync();
        try
        {
            await Poll.UntilAsync(() => !_client.IsConnected && !_listener.IsConnected, TimeSpan.FromSeconds(20), "both sides to notice the broker is gone");
            var down = await Assert.ThrowsAsync<BusException>(EchoAsync);
            Assert.Equal(BusErrorKind.Disconnected, down.Kind);
        }
        finally
        {
            await broker.StartAsync();
        }

        await Poll.UntilAsync(async () => await EchoAsync() == "ping", TimeSpan.FromSeconds(60), "a request to succeed after the broker restarted");
    }

    [Fact]
    public async Task SendAsync_NobodyTakesItBeforeTheDeadline_ExpiresInTheQueueAndNeverRuns()
    {
        var queue = $"causeway.test.{Guid.NewGuid():N}";
        var ran = new List<string>();
        Handler.Handle = (request, response, ct) =>
        {
            lock (ran)
            {
                ran.Add(request.Operation);
            }

            return Task.CompletedTask;
        };

        var error = await Assert.ThrowsAsync<BusException>(() =>
            _client.SendAsync(queue, new BusRequest("late", default) { Deadline = DateTimeOffset.UtcNow.AddMilliseconds(300) }, CancellationToken.None));
        await using var member = await RabbitMqBusListener.StartAsync(Options(), queue, queue + ".member.", Handler, 4, 0, CancellationToken.None);
        await using var fresh = await _client.SendAsync(queue, new BusRequest("fresh", default), CancellationToken.None);

        Assert.Equal(BusErrorKind.DeadlineExceeded, error.Kind);
        Assert.Equal(204, fresh.Status);
        Assert.Equal(["fresh"], ran);
    }

    [Fact]
    public async Task MemberUser_OfOneCluster_CannotConsumeOrPublishToAnotherClustersQueue()
    {
        var mine = Guid.NewGuid();
        var other = Guid.NewGuid();
        var (configure, write, read) = GatewayQueues.MemberPermissions(mine);
        var password = Guid.NewGuid().ToString("N");
        await broker.AddUserAsync(GatewayQueues.MemberUser(mine), password, configure, write, read);
        var memberUri = broker.UriFor(GatewayQueues.MemberUser(mine), password);
        await using var otherQueue = await RabbitMqBusClient.ConnectAsync(Options(), CancellationToken.None);
        Handler.Handle = async (request, response, ct) => await response.StartAsync(200, "mine"u8.ToArray(), ct);

        // Its own cluster: it serves requests the server (admin user) sends.
        await using (var own = await RabbitMqBusListener.StartAsync(Options(memberUri), GatewayQueues.ClusterQueue(mine), GatewayQueues.MemberControlPrefix(mine), Handler, 4, 0, CancellationToken.None))
        {
            await using var answer = await otherQueue.SendAsync(GatewayQueues.ClusterQueue(mine), new BusRequest("x", default), CancellationToken.None);
            Assert.Equal("mine", BusNotices.Text(answer.Head));
        }

        // Another cluster's queue: refused by the broker, whatever control prefix it claims.
        var consume = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() =>
            RabbitMqBusListener.StartAsync(Options(memberUri), GatewayQueues.ClusterQueue(other), GatewayQueues.MemberControlPrefix(mine), Handler, 4, 0, CancellationToken.None));
        Assert.Contains("ACCESS_REFUSED", consume.Message, StringComparison.Ordinal);
        var borrowed = await Assert.ThrowsAnyAsync<OperationInterruptedException>(() =>
            RabbitMqBusListener.StartAsync(Options(memberUri), GatewayQueues.ClusterQueue(other), GatewayQueues.MemberControlPrefix(other), Handler, 4, 0, CancellationToken.None));
        Assert.Contains("ACCESS_REFUSED", borrowed.Message, StringComparison.Ordinal);

        // Nor can it put requests into any cluster's queue: it may publish answers only.
        await using var connection = await new ConnectionFactory { Uri = memberUri }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicPublishAsync("", GatewayQueues.ClusterQueue(other), "forged"u8.ToArray());
        await Poll.UntilAsync(() => channel.IsClosed, TimeSpan.FromSeconds(10), "the broker to close the channel that published to the default exchange");
        Assert.Contains("ACCESS_REFUSED", channel.CloseReason?.ReplyText, StringComparison.Ordinal);
    }
}
