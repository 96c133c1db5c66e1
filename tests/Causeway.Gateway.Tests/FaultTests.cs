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
        var engine = new DataEngine(new DataSchema([table], []), DataSourceHandler.DialectOf("sqlserver"));

        var text = DataSourceHandler.ConnectionString(source, "u", "p");
        var plan = engine.ParseQuery("Artist", null, new Dictionary<string, string> { ["$filter"] = "Name eq 'AC/DC'", ["$top"] = "5" });

        Assert.Contains("Data Source=db.local,1433", text, StringComparison.Ordinal);
        Assert.Contains("Encrypt=True", text, StringComparison.Ordinal);
        Assert.Contains("[dbo].[Artist]", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("AC/DC", plan.Sql, StringComparison.Ordinal);
        Assert.Contains(plan.Parameters, p => Equals(p.Value, "AC/DC"));
    }

    private async Task<ClientWebSocket> ConnectAsync(string credential)
    {
        var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, c, ch, e) => _host.Trust.Validate(c, ch, e);
        socket.Options.SetRequestHeader("Authorization", "GatewayMember " + credential);
        await socket.ConnectAsync(new Uri($"wss://{_host.BaseAddress.Authority}/gateway/connect"), CancellationToken.None);
        return socket;
    }

    /// <summary>Starts a large answer and then vanishes, as a killed agent would.</summary>
    private sealed class DyingHandler(WebSocket socket) : IBusHandler
    {
        private int _sent;

        public int Sent => Volatile.Read(ref _sent);

        public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
        {
            await response.StartAsync(200, BusNotices.Encode(new DataResponseHead("application/json", null)), cancellationToken);
            await response.Body.WriteAsync(System.Text.Encoding.UTF8.GetBytes("{\"value\":[" + new string(' ', 3 * WebSocketBusConnection.ChunkSize)), cancellationToken);
            Interlocked.Increment(ref _sent);
            socket.Abort();
        }
    }
}
