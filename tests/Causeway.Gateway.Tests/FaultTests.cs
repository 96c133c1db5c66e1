using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Causeway.Bus;
using Causeway.Data;
using Causeway.Gateway.Agent;

namespace Causeway.Gateway.Tests;

public sealed class FaultTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Query_MemberDiesMidStream_ClientSeesAnErrorNotATruncatedSuccess()
    {
        var (clusterId, credential, _) = await _host.CreateClusterAsync("hq");
        var url = await Agents.BindAsync(_host, clusterId, Agents.Chinook());
        var socket = await ConnectAsync(credential);
        var handler = new DyingHandler(socket);
        await using var member = new WebSocketBusConnection(socket, handler);
        _ = member.RunAsync(CancellationToken.None);
        await member.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Hello)), CancellationToken.None);
        using var client = _host.Client(_host.AdminToken);
        await Causeway.Testing.Poll.UntilAsync(async () =>
            (await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/gateways/{clusterId}")).GetProperty("status").GetString() == "online",
            TimeSpan.FromSeconds(10), "the fake member to be online");

        var error = await Record.ExceptionAsync(async () =>
        {
            using var response = await client.GetAsync(url + "Track", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // The status line has reached the client: only now does the member die, so this is the middle of the stream.
            handler.StatusSeen.TrySetResult();
            await response.Content.ReadAsStringAsync();
        });

        Assert.True(handler.Sent > 0, "the member never started answering");
        Assert.True(error is HttpRequestException or IOException, $"expected a broken response, got {error?.GetType().Name ?? "a complete one"}");
    }

    [Fact]
    public async Task MemberStatus_SilentMember_GoesOfflineWithinThreeHeartbeats()
    {
        var (clusterId, credential, _) = await _host.CreateClusterAsync("hq");
        var socket = await ConnectAsync(credential);
        await using var member = new WebSocketBusConnection(socket, null);
        _ = member.RunAsync(CancellationToken.None);
        using var client = _host.Client(_host.AdminToken);

        await Causeway.Testing.Poll.UntilAsync(async () =>
            (await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/gateways/{clusterId}")).GetProperty("status").GetString() == "offline" && member.Closed.IsCancellationRequested,
            TimeSpan.FromSeconds(15), "the silent member to be marked offline and dropped (heartbeat every second)");
    }

    [Fact]
    public void SqlServer_ConnectionStringAndQuery_AreEncryptedQuotedAndParameterized()
    {
        var source = new DataSourceDescriptor(Guid.NewGuid(), "erp", "sqlserver", new DataSourceConnection("db.local", 1433, "erp", null), "", DateTimeOffset.UnixEpoch);
        var table = new TableSchema("Artist", "Artist", [new ColumnSchema("ArtistId", DataType.Int32, Nullable: false), new ColumnSchema("Name", DataType.String)], ["ArtistId"], Schema: "dbo");
        var engine = new DataEngine(new DataSchema([table], []), DataSourceConnections.DialectOf("sqlserver"));

        var text = DataSourceConnections.ConnectionString(source, "u", "p", writable: false);
        var plan = engine.ParseQuery("Artist", null, new Dictionary<string, string> { ["$filter"] = "Name eq 'AC/DC'", ["$top"] = "5" });

        Assert.Contains("Data Source=db.local,1433", text, StringComparison.Ordinal);
        Assert.Contains("Encrypt=True", text, StringComparison.Ordinal);
        Assert.Contains("[dbo].[Artist]", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("AC/DC", plan.Sql, StringComparison.Ordinal);
        Assert.Contains(plan.Parameters, p => Equals(p.Value, "AC/DC"));
    }

    [Fact]
    public async Task Query_DistributeRequests_RotatesOverMembers_OtherwiseThePrimaryTakesAll()
    {
        var (clusterId, credential, _) = await _host.CreateClusterAsync("hq");
        using var client = _host.Client(_host.AdminToken);
        var added = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/members", new { name = "second", version = "test" });
        var secondCredential = (await added.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("credential").GetString()!;
        var url = await Agents.BindAsync(_host, clusterId, Agents.Chinook());
        var primary = new AnsweringHandler();
        var second = new AnsweringHandler();
        await using var a = await FakeMember.StartAsync(await ConnectAsync(credential), primary);
        await using var b = await FakeMember.StartAsync(await ConnectAsync(secondCredential), second);
        await WaitForAllOnlineAsync(client, clusterId);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(url + "Track")).StatusCode);
        }

        Assert.Equal((4, 0), (primary.Count, second.Count));
        (await client.PatchAsJsonAsync($"/api/v1/gateways/{clusterId}", new { distributeRequests = true })).EnsureSuccessStatusCode();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync(url + "Track")).StatusCode);
        }

        Assert.Equal((7, 3), (primary.Count, second.Count));
    }

    [Fact]
    public async Task Query_EveryMemberAtItsLimit_Returns503NamingTheCluster()
    {
        var (clusterId, credential, _) = await _host.CreateClusterAsync("busy-hq");
        using var client = _host.Client(_host.AdminToken);
        (await client.PatchAsJsonAsync($"/api/v1/gateways/{clusterId}", new { memberConcurrencyLimit = 1 })).EnsureSuccessStatusCode();
        var url = await Agents.BindAsync(_host, clusterId, Agents.Chinook());
        var handler = new AnsweringHandler { Hold = new TaskCompletionSource() };
        await using var member = await FakeMember.StartAsync(await ConnectAsync(credential), handler);
        await WaitForAllOnlineAsync(client, clusterId);

        using var first = await client.GetAsync(url + "Track", HttpCompletionOption.ResponseHeadersRead);
        using var second = await client.GetAsync(url + "Track");
        var text = await second.Content.ReadAsStringAsync();
        handler.Hold.SetResult();
        var firstBody = await first.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
        Assert.EndsWith("]}", firstBody, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Contains(GatewayErrorCodes.GatewayUnavailable, text, StringComparison.Ordinal);
        Assert.Contains("'busy-hq'", text, StringComparison.Ordinal);
        Assert.Contains("limit of 1", text, StringComparison.Ordinal);
        Assert.Equal(1, handler.Count);
    }

    private static Task WaitForAllOnlineAsync(HttpClient client, Guid clusterId) =>
        Causeway.Testing.Poll.UntilAsync(async () =>
            (await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/gateways/{clusterId}")).GetProperty("members").EnumerateArray().All(m => m.GetProperty("status").GetString() == "online"),
            TimeSpan.FromSeconds(15), "every fake member to be online");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Connect_BatchingAskedFor_IsGrantedAndOtherwiseNot(bool ask)
    {
        var (_, credential, _) = await _host.CreateClusterAsync("hq");

        using var socket = await ConnectAsync(credential, ask);

        Assert.Equal(ask ? WebSocketBusConnection.BatchingSubProtocol : null, socket.SubProtocol);
        socket.Abort();
    }

    private async Task<ClientWebSocket> ConnectAsync(string credential, bool batching = false)
    {
        var socket = new ClientWebSocket();
        if (batching)
        {
            socket.Options.AddSubProtocol(WebSocketBusConnection.BatchingSubProtocol);
        }

        socket.Options.RemoteCertificateValidationCallback = (_, c, ch, e) => _host.Trust.Validate(c, ch, e);
        socket.Options.SetRequestHeader("Authorization", "GatewayMember " + credential);
        await socket.ConnectAsync(new Uri($"wss://{_host.BaseAddress.Authority}/gateway/connect"), CancellationToken.None);
        return socket;
    }

    /// <summary>A member made of a bus connection and a heartbeat every half second (the host asks for one a second).</summary>
    private sealed class FakeMember : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly WebSocketBusConnection _connection;
        private readonly Task _heartbeats;

        private FakeMember(WebSocketBusConnection connection)
        {
            _connection = connection;
            _ = connection.RunAsync(CancellationToken.None);
            _heartbeats = Task.Run(async () =>
            {
                try
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        await connection.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Heartbeat) { Version = "test" }), _stop.Token);
                        await Task.Delay(TimeSpan.FromMilliseconds(500), _stop.Token);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or BusException)
                {
                }
            });
        }

        public static async Task<FakeMember> StartAsync(WebSocket socket, IBusHandler handler)
        {
            var member = new FakeMember(new WebSocketBusConnection(socket, handler));
            await member._connection.SendNoticeAsync(BusNotices.Encode(new GatewayNotice(GatewayOperations.Hello) { Version = "test" }), CancellationToken.None);
            return member;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _heartbeats;
            await _connection.DisposeAsync();
        }
    }

    /// <summary>Answers every query with an empty page, after <see cref="Hold"/> if set (having sent the first 32 KB).</summary>
    private sealed class AnsweringHandler : IBusHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public TaskCompletionSource? Hold { get; init; }

        public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            await response.StartAsync(200, BusNotices.Encode(new DataResponseHead("application/json", null)), cancellationToken);
            await response.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes("{\"value\":[" + new string(' ', WebSocketBusConnection.ChunkSize)), cancellationToken);
            if (Hold is { } hold)
            {
                await hold.Task.WaitAsync(cancellationToken);
            }

            await response.Body.WriteAsync("]}"u8.ToArray(), cancellationToken);
        }
    }

    /// <summary>Starts a large answer and then vanishes, as a killed agent would.</summary>
    /// <summary>
    /// Starts an answer, sends three chunks of it, waits until the client has the status line, then drops the connection.
    /// (Dropped earlier, the loss can beat the head to the server, whose honest answer is then a 502, not a broken stream.)
    /// </summary>
    private sealed class DyingHandler(WebSocket socket) : IBusHandler
    {
        private int _sent;

        public int Sent => Volatile.Read(ref _sent);

        public TaskCompletionSource StatusSeen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
        {
            await response.StartAsync(200, BusNotices.Encode(new DataResponseHead("application/json", null)), cancellationToken);
            await response.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes("{\"value\":[" + new string(' ', 3 * WebSocketBusConnection.ChunkSize)), cancellationToken);
            Interlocked.Increment(ref _sent);
            try
            {
                await StatusSeen.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
            finally
            {
                socket.Abort();
            }
        }
    }
}
