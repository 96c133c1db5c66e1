using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Gateway.Agent;
using Causeway.Security;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.Gateway.Tests;

/// <summary>
/// The agent's HTTP calls (<see cref="GatewayHttp.Call"/>) over each bus transport: the serving side is the agent's own
/// handler chain (<see cref="IdempotentHandler"/> around <see cref="HttpCallHandler"/>), the backend a real Kestrel server.
/// </summary>
public abstract class HttpCallBusTests : IAsyncLifetime
{
    protected const int MaxMessageSize = 256 * 1024;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly Guid _cluster = Guid.NewGuid();
    private readonly RSA _key = GatewayEnvelope.CreateKey();
    private readonly ConcurrentQueue<(string Target, string? Host, string? Key, string Body)> _received = new();
    private WebApplication _backend = null!;
    private string _backendUrl = null!;
    private HttpCallHandler _http = null!;

    protected IBusClient Client { get; set; } = null!;

    protected IBusHandler Serving { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _backend = builder.Build();
        _backend.Map("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _received.Enqueue((context.Features.Get<IHttpRequestFeature>()!.RawTarget, context.Request.Headers.Host, context.Request.Headers["X-Api-Key"].FirstOrDefault(),
                Encoding.UTF8.GetString(body.ToArray())));
            context.Response.StatusCode = 201;
            context.Response.Headers["X-Item"] = "42";
            context.Response.ContentType = "application/octet-stream";

            // Several bus chunks, and within the 256 KB an idempotent answer is kept for a replay.
            await context.Response.Body.WriteAsync(Pattern(200_000));
        });
        await _backend.StartAsync();
        _backendUrl = _backend.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        _http = new HttpCallHandler(_cluster, _key, _ => { }, new RefuseOthers(), HostAllowList.Parse(null));
        Serving = new IdempotentHandler(_http);
        await StartTransportAsync();
    }

    public async Task DisposeAsync()
    {
        await StopTransportAsync();
        _http.Dispose();
        await _backend.StopAsync();
        await _backend.DisposeAsync();
        _key.Dispose();
    }

    protected abstract Task StartTransportAsync();

    protected abstract Task StopTransportAsync();

    [Fact]
    public async Task Call_KeyInjectedIntoTheQuery_AnswerStreamedBack_RetryWithTheSameKeyReplayed()
    {
        var envelope = GatewayEnvelope.Seal(_key, """{"api_key":"k-123"}"""u8, GatewayOperations.CredentialsAssociatedData(_cluster));
        var call = new HttpCallMessage(_cluster, "POST", $"{_backendUrl}/items?x=1&code=wrong",
            [new HttpCallHeader("Host", "items.corp.example"), new HttpCallHeader("Content-Type", "application/json")], """{"n":1}"""u8.ToArray(),
            new HttpCallCredentials(GatewayHttp.ApiKey, envelope, "query", "code", "api_key", null), 30);

        var answers = new List<(int Status, HttpCallResponseHead Head, byte[] Body)>();
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await using var response = await Client.SendAsync(new BusRequest(GatewayHttp.Call, JsonSerializer.SerializeToUtf8Bytes(call, Web)) { IdempotencyKey = "item-1" }, CancellationToken.None);
            using var body = new MemoryStream();
            await response.Body.CopyToAsync(body);
            answers.Add((response.Status, JsonSerializer.Deserialize<HttpCallResponseHead>(response.Head.Span, Web)!, body.ToArray()));
        }

        var received = Assert.Single(_received);
        Assert.Equal("/items?x=1&code=k-123", received.Target);
        Assert.Equal("items.corp.example", received.Host);
        Assert.Null(received.Key);
        Assert.Equal("""{"n":1}""", received.Body);
        Assert.All(answers, a =>
        {
            Assert.Equal(201, a.Status);
            Assert.Contains(a.Head.Headers, h => h.Name == "X-Item" && h.Value == "42");
            Assert.True(a.Body.AsSpan().SequenceEqual(Pattern(200_000)));
        });
        Assert.Equal(1, _http.EnvelopesOpened);
    }

    [Fact]
    public async Task Call_BackendUnreachableOrEnvelopeAltered_FailsWithItsCode()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closed = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var none = new HttpCallCredentials(GatewayHttp.NoCredentials, null, null, null, null, null);
        var envelope = GatewayEnvelope.Seal(_key, """{"api_key":"k"}"""u8, GatewayOperations.CredentialsAssociatedData(_cluster));
        var altered = envelope[..^8] + (envelope[^8] == 'A' ? "B" : "A") + envelope[^7..];

        var unreachable = await Assert.ThrowsAsync<BusException>(() => SendAsync(new HttpCallMessage(_cluster, "GET", $"http://127.0.0.1:{closed}/x", [], null, none, 30)));
        var unreadable = await Assert.ThrowsAsync<BusException>(() => SendAsync(new HttpCallMessage(_cluster, "GET", $"{_backendUrl}/x", [], null,
            new HttpCallCredentials(GatewayHttp.ApiKey, altered, "header", "X-Api-Key", "api_key", null), 30)));

        Assert.Equal(GatewayHttp.BackendUnreachable, unreachable.Code);
        Assert.Contains($"http://127.0.0.1:{closed} cannot be reached from the gateway", unreachable.Message, StringComparison.Ordinal);
        Assert.Equal(GatewayErrorCodes.CredentialsUnreadable, unreadable.Code);
        Assert.Empty(_received);
    }

    private async Task SendAsync(HttpCallMessage call)
    {
        await using var response = await Client.SendAsync(new BusRequest(GatewayHttp.Call, JsonSerializer.SerializeToUtf8Bytes(call, Web)), CancellationToken.None);
        await response.Body.CopyToAsync(Stream.Null);
    }

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i % 251);
        }

        return bytes;
    }

    private sealed class RefuseOthers : IBusHandler
    {
        public Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken) =>
            throw new BusException("not-supported", $"Not here: {request.Operation}.");
    }
}

/// <summary>HTTP calls over one WebSocket on loopback TCP.</summary>
public sealed class HttpCallWebSocketBusTests : HttpCallBusTests
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private WebSocketBusConnection _client = null!;
    private WebSocketBusConnection _server = null!;

    protected override async Task StartTransportAsync()
    {
        _listener.Start();
        var accept = _listener.AcceptTcpClientAsync();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)_listener.LocalEndpoint).Port);
        var serverTcp = await accept;
        _client = new WebSocketBusConnection(WebSocket.CreateFromStream(tcp.GetStream(), isServer: false, null, Timeout.InfiniteTimeSpan), null) { MaxMessageSize = MaxMessageSize };
        _server = new WebSocketBusConnection(WebSocket.CreateFromStream(serverTcp.GetStream(), isServer: true, null, Timeout.InfiniteTimeSpan), Serving) { MaxMessageSize = MaxMessageSize };
        _ = _client.RunAsync(CancellationToken.None);
        _ = _server.RunAsync(CancellationToken.None);
        Client = _client;
    }

    protected override async Task StopTransportAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _listener.Stop();
    }
}

/// <summary>HTTP calls over RabbitMQ: a work queue per test, one serving listener, one client.</summary>
[Collection("rabbitmq")]
public sealed class HttpCallRabbitMqBusTests(RabbitMqServer broker) : HttpCallBusTests
{
    private readonly string _queue = $"causeway.test.{Guid.NewGuid():N}";
    private RabbitMqBusClient _client = null!;
    private RabbitMqBusListener _listener = null!;

    protected override async Task StartTransportAsync()
    {
        var options = new RabbitMqBusOptions { Uri = broker.AdminUri, MaxMessageSize = MaxMessageSize, PeerCheckInterval = TimeSpan.FromMilliseconds(250) };
        _client = await RabbitMqBusClient.ConnectAsync(options, CancellationToken.None);
        _listener = await RabbitMqBusListener.StartAsync(options, _queue, _queue + ".member.", Serving, 40, 0, CancellationToken.None);
        Client = _client.For(_queue);
    }

    protected override async Task StopTransportAsync()
    {
        await _listener.DisposeAsync();
        await _client.DisposeAsync();
    }
}
