using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Causeway.Relay.Client;
using Causeway.Relay.Management;
using Causeway.Security;

namespace Causeway.Relay.Tests;

/// <summary>The protocol's edges with raw WebSockets and the .NET client: tokens, faults, limits, spreading.</summary>
[Collection(RelayCollection.Name)]
public sealed class ProtocolTests(RelayFixture relay)
{
    private static readonly CreateAuthorizationRuleRequest SendOnly = new("send-only", ["Send"]);
    private static readonly CreateAuthorizationRuleRequest ListenOnly = new("listen-only", ["Listen"]);

    [Fact]
    public async Task Listen_WithoutToken_Returns401()
    {
        var hc = await relay.CreateHybridConnectionAsync("no-token");

        Assert.Equal(HttpStatusCode.Unauthorized, await ConnectStatusAsync(ListenUri(hc.Path, token: null)));
    }

    [Fact]
    public async Task Listen_WrongKey_Returns401()
    {
        var hc = await relay.CreateHybridConnectionAsync("bad-sig");
        var token = Token(hc.Path, hc.AuthorizationRules[0].KeyName, SharedAccessSignature.GenerateKey());

        Assert.Equal(HttpStatusCode.Unauthorized, await ConnectStatusAsync(ListenUri(hc.Path, token)));
    }

    [Fact]
    public async Task Listen_ExpiredToken_Returns401()
    {
        var hc = await relay.CreateHybridConnectionAsync("expired");
        var rule = hc.AuthorizationRules[0];
        var token = Token(hc.Path, rule.KeyName, rule.PrimaryKey!, TimeSpan.FromSeconds(-5));

        Assert.Equal(HttpStatusCode.Unauthorized, await ConnectStatusAsync(ListenUri(hc.Path, token)));
    }

    [Fact]
    public async Task Listen_TokenForOtherHybridConnection_Returns401()
    {
        var hc = await relay.CreateHybridConnectionAsync("other-resource");
        var rule = hc.AuthorizationRules[0];
        var token = SharedAccessSignature.Create("http://127.0.0.1/somewhere-else", rule.KeyName, rule.PrimaryKey!, DateTimeOffset.UtcNow.AddHours(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await ConnectStatusAsync(ListenUri(hc.Path, token)));
    }

    [Fact]
    public async Task Listen_SendOnlyRule_Returns403()
    {
        var hc = await relay.CreateHybridConnectionAsync("send-only", true, SendOnly);
        var rule = hc.AuthorizationRules.Single(r => r.KeyName == "send-only");

        Assert.Equal(HttpStatusCode.Forbidden, await ConnectStatusAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!))));
    }

    [Fact]
    public async Task Listen_SecondaryKeyAndSbResourceWithPort_Succeeds()
    {
        var hc = await relay.CreateHybridConnectionAsync("secondary");
        var rule = hc.AuthorizationRules[0];
        var token = SharedAccessSignature.Create($"sb://127.0.0.1:{relay.Port}/$hc/{hc.Path}", rule.KeyName, rule.SecondaryKey!, DateTimeOffset.UtcNow.AddHours(1));

        using var socket = await ConnectAsync(ListenUri(hc.Path, token));
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task Listen_UnknownPath_Returns404()
    {
        var token = SharedAccessSignature.Create("http://127.0.0.1/", "RootManageSharedAccessKey", SharedAccessSignature.GenerateKey(), DateTimeOffset.UtcNow.AddHours(1));

        Assert.Equal(HttpStatusCode.NotFound, await ConnectStatusAsync(ListenUri("does-not-exist", token)));
    }

    [Fact]
    public async Task Listen_OverListenerLimit_Returns403()
    {
        var hc = await relay.CreateHybridConnectionAsync("limit");
        var rule = hc.AuthorizationRules[0];
        var sockets = new List<ClientWebSocket>();
        try
        {
            for (var i = 0; i < RelayFixture.MaxListeners; i++)
            {
                sockets.Add(await ConnectAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!))));
            }

            Assert.Equal(HttpStatusCode.Forbidden, await ConnectStatusAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!))));
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Connect_ListenOnlyRule_Returns403()
    {
        var hc = await relay.CreateHybridConnectionAsync("listen-only", true, ListenOnly);
        var rule = hc.AuthorizationRules.Single(r => r.KeyName == "listen-only");
        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);

        var error = await Assert.ThrowsAsync<RelayException>(() => client.CreateConnectionAsync());
        Assert.Equal(403, error.StatusCode);
    }

    [Fact]
    public async Task Connect_NoListener_Returns502()
    {
        var hc = await relay.CreateHybridConnectionAsync("no-listener");
        var rule = hc.AuthorizationRules[0];
        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);

        var error = await Assert.ThrowsAsync<RelayException>(() => client.CreateConnectionAsync());
        Assert.Equal(502, error.StatusCode);
    }

    [Fact]
    public async Task Connect_ClientAuthorizationNotRequired_WorksWithoutToken()
    {
        var hc = await relay.CreateHybridConnectionAsync("open", requiresClientAuthorization: false);
        await using var listener = await OpenListenerAsync(hc);
        var echo = Task.Run(async () => await NodeCompatibilityTests.EchoAsync((await listener.AcceptConnectionAsync())!));
        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, options: relay.ClientOptions);

        using var socket = await client.CreateConnectionAsync();
        await socket.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, default);
        Assert.Equal("x", Encoding.UTF8.GetString((await NodeCompatibilityTests.ReceiveAsync(socket)).Payload));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, default);
        await echo.WaitAsync(Wait.DefaultTimeout);
    }

    [Fact]
    public async Task Connect_ListenerRejects_SenderGetsListenersStatus()
    {
        var hc = await relay.CreateHybridConnectionAsync("reject");
        await using var listener = await OpenListenerAsync(hc);
        listener.AcceptHandler = request =>
        {
            request.RejectStatusCode = 451;
            request.RejectDescription = "Not today";
            return false;
        };
        using var client = Sender(hc);

        var error = await Assert.ThrowsAsync<RelayException>(() => client.CreateConnectionAsync());
        Assert.Equal(451, error.StatusCode);
    }

    [Fact]
    public async Task Connect_ListenerClosesWithCode_SenderSeesSameCodeAndDescription()
    {
        var hc = await relay.CreateHybridConnectionAsync("close-code");
        await using var listener = await OpenListenerAsync(hc);
        var accepted = listener.AcceptConnectionAsync();
        using var client = Sender(hc);
        using var socket = await client.CreateConnectionAsync();
        using var listenerSide = (await accepted.WithTimeout("the listener to accept"))!;

        await listenerSide.CloseOutputAsync((WebSocketCloseStatus)4100, "custom reason", default);

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal((WebSocketCloseStatus)4100, socket.CloseStatus);
        Assert.Equal("custom reason", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Connect_ListenerVanishesMidStream_SenderSeesClose()
    {
        var hc = await relay.CreateHybridConnectionAsync("listener-vanishes");
        await using var listener = await OpenListenerAsync(hc);
        var accepted = listener.AcceptConnectionAsync();
        using var client = Sender(hc);
        using var socket = await client.CreateConnectionAsync();
        var listenerSide = (await accepted.WithTimeout("the listener to accept"))!;
        await socket.SendAsync("a"u8.ToArray(), WebSocketMessageType.Binary, true, default);
        await NodeCompatibilityTests.ReceiveAsync(listenerSide);

        listenerSide.Abort();

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
    }

    [Fact]
    public async Task Connect_SenderVanishes_ListenerSeesClose()
    {
        var hc = await relay.CreateHybridConnectionAsync("sender-vanishes");
        await using var listener = await OpenListenerAsync(hc);
        var accepted = listener.AcceptConnectionAsync();
        using var client = Sender(hc);
        var socket = await client.CreateConnectionAsync();
        using var listenerSide = (await accepted.WithTimeout("the listener to accept"))!;

        socket.Abort();

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(listenerSide);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, listenerSide.CloseStatus);
    }

    [Fact]
    public async Task Connect_MessageOverLimit_ClosesWith1009()
    {
        var hc = await relay.CreateHybridConnectionAsync("too-big");
        await using var listener = await OpenListenerAsync(hc);
        var accepted = listener.AcceptConnectionAsync();
        using var client = Sender(hc);
        using var socket = await client.CreateConnectionAsync();
        using var listenerSide = (await accepted.WithTimeout("the listener to accept"))!;
        var listenerReceive = NodeCompatibilityTests.ReceiveAsync(listenerSide);

        var oversized = new byte[RelayFixture.MaxMessageSize + 1];
        try
        {
            await socket.SendAsync(oversized, WebSocketMessageType.Binary, true, default);
        }
        catch (WebSocketException)
        {
            // The relay may close before the whole message is written.
        }

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        await listenerReceive;
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, listenerSide.CloseStatus);
    }

    [Fact]
    public async Task Connect_TwoListeners_ConnectionsAreSpreadRoundRobin()
    {
        var hc = await relay.CreateHybridConnectionAsync("spread");
        await using var first = await OpenListenerAsync(hc);
        await using var second = await OpenListenerAsync(hc);
        await relay.WaitForListenersAsync(hc.Path, 2);
        var counts = new int[2];
        var acceptors = new[] { first, second }.Select((listener, index) => Task.Run(async () =>
        {
            while (await listener.AcceptConnectionAsync() is { } accepted)
            {
                Interlocked.Increment(ref counts[index]);
                _ = NodeCompatibilityTests.EchoAsync(accepted);
            }
        })).ToList();
        using var client = Sender(hc);

        var sockets = new List<WebSocket>();
        for (var i = 0; i < 4; i++)
        {
            sockets.Add(await client.CreateConnectionAsync());
        }

        await Wait.UntilAsync(() => counts.Sum() == 4, "4 accepted connections");
        Assert.Equal([2, 2], counts);
        sockets.ForEach(s => s.Abort());
    }

    [Fact]
    public async Task Connect_ListenerNeverRendezvous_SenderGets504AndAddressExpires()
    {
        var hc = await relay.CreateHybridConnectionAsync("expiry");
        var rule = hc.AuthorizationRules[0];
        using var control = await ConnectAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!)));
        using var client = Sender(hc);

        var connect = client.CreateConnectionAsync();
        var accept = JsonDocument.Parse((await NodeCompatibilityTests.ReceiveAsync(control)).Payload).RootElement.GetProperty("accept");
        var address = accept.GetProperty("address").GetString()!;
        Assert.StartsWith($"wss://127.0.0.1:{relay.Port}/$hc/{hc.Path}?sb-hc-action=accept&sb-hc-id=", address, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(accept.GetProperty("connectHeaders").GetProperty("Sec-WebSocket-Key").GetString()));

        var error = await Assert.ThrowsAsync<RelayException>(() => connect.WaitAsync(Wait.DefaultTimeout));
        Assert.Equal(504, error.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await ConnectStatusAsync(new Uri(address)));
    }

    [Fact]
    public async Task Listen_TokenExpires_ControlChannelClosesWith1008()
    {
        var hc = await relay.CreateHybridConnectionAsync("token-expires");
        var rule = hc.AuthorizationRules[0];
        using var control = await ConnectAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!, TimeSpan.FromSeconds(2))));

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(control);

        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, control.CloseStatus);
    }

    [Fact]
    public async Task Listen_RenewToken_KeepsControlChannelPastFirstExpiry()
    {
        var hc = await relay.CreateHybridConnectionAsync("renew");
        var rule = hc.AuthorizationRules[0];
        var firstExpiry = DateTimeOffset.UtcNow.AddSeconds(2);
        using var control = await ConnectAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!, TimeSpan.FromSeconds(2))));
        var renew = JsonSerializer.SerializeToUtf8Bytes(new { renewToken = new { token = Token(hc.Path, rule.KeyName, rule.PrimaryKey!) } });
        await control.SendAsync(renew, WebSocketMessageType.Text, true, default);

        var receive = NodeCompatibilityTests.ReceiveAsync(control);
        await Wait.UntilAsync(() => DateTimeOffset.UtcNow > firstExpiry.AddSeconds(1.5), "the first token's expiry to pass");

        Assert.False(receive.IsCompleted, "the control channel received something (a close?) after renewing");
        Assert.Equal(1, await relay.ListenerCountAsync(hc.Path));
    }

    [Fact]
    public async Task Delete_HybridConnectionWithListener_ClosesWith1001()
    {
        var hc = await relay.CreateHybridConnectionAsync("deleted");
        var rule = hc.AuthorizationRules[0];
        using var control = await ConnectAsync(ListenUri(hc.Path, Token(hc.Path, rule.KeyName, rule.PrimaryKey!)));
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var response = await relay.Http.DeleteAsync($"/api/v1/relay/hybridconnections/{hc.Path}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var (type, _) = await NodeCompatibilityTests.ReceiveAsync(control);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, control.CloseStatus);
    }

    [Fact]
    public async Task Http_NoListener_Returns502()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-no-listener");
        using var client = Sender(hc);

        using var response = await client.GetAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Http_ListenerDoesNotAnswer_Returns504()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-slow");
        await using var listener = await OpenListenerAsync(hc);
        listener.RequestHandler = async (_, cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return new RelayedHttpResponse(200);
        };
        using var client = Sender(hc);

        using var response = await client.GetAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Http_DotNetListener_SmallAndLargeBodiesBothWays()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-dotnet");
        await using var listener = await OpenListenerAsync(hc);
        listener.RequestHandler = (request, _) => Task.FromResult(new RelayedHttpResponse(201, request.Body.ToArray().Concat(request.Body.ToArray()).ToArray())
        {
            StatusDescription = "Made",
            Headers = new Dictionary<string, string> { ["X-Target"] = request.RequestTarget, ["X-Method"] = request.Method },
        });
        using var client = Sender(hc);

        foreach (var size in new[] { 10, 100_000 })
        {
            var body = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"echo?size={size}&sb-hc-id=dropped", UriKind.Relative)) { Content = new ByteArrayContent(body) };
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"/{hc.Path}/echo?size={size}", response.Headers.GetValues("X-Target").Single());
            Assert.Equal(body.Concat(body).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Http_WrongRight_Returns403AndUnknownPath404()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-auth", true, ListenOnly);
        var rule = hc.AuthorizationRules.Single(r => r.KeyName == "listen-only");
        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        using var unknown = new HybridConnectionClient(relay.BaseAddress, "nothing-here", rule.KeyName, rule.PrimaryKey, relay.ClientOptions);

        using var forbidden = await client.GetAsync();
        using var notFound = await unknown.GetAsync();
        using var unauthorized = await relay.Http.GetAsync($"/{hc.Path}/x");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task Listener_ControlChannelLost_Reconnects()
    {
        var hc = await relay.CreateHybridConnectionAsync("reconnect");
        await using var listener = await OpenListenerAsync(hc);
        await relay.WaitForListenersAsync(hc.Path, 1);

        // Drop the control channel from the relay's side, as a relay restart or an internal error (1011) would.
        await relay.Hub.DisconnectAllAsync(hc.Path, WebSocketCloseStatus.InternalServerError, "test");

        await Wait.UntilAsync(() => listener.ReconnectCount == 1 && listener.IsOnline, "the listener to reconnect");
        Assert.Equal(WebSocketCloseStatus.InternalServerError, listener.LastCloseStatus);
        await relay.WaitForListenersAsync(hc.Path, 1);
    }

    [Fact]
    public async Task Listener_ShortTokenLifetime_RenewsAndStaysOnline()
    {
        var hc = await relay.CreateHybridConnectionAsync("client-renew");
        var rule = hc.AuthorizationRules[0];
        var options = relay.ClientOptions;
        options.TokenLifetime = TimeSpan.FromSeconds(2);
        await using var listener = new HybridConnectionListener(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey!, options);
        var opened = DateTimeOffset.UtcNow;
        await listener.OpenAsync();

        await Wait.UntilAsync(() => DateTimeOffset.UtcNow > opened.AddSeconds(3.5), "the first token's expiry to pass");

        Assert.True(listener.IsOnline, $"listener went offline with {listener.LastCloseStatus}");
        Assert.Equal(0, listener.ReconnectCount);
    }

    [Fact]
    public async Task Listener_Close_LeavesCleanlyAndStopsReconnecting()
    {
        var hc = await relay.CreateHybridConnectionAsync("client-close");
        var listener = await OpenListenerAsync(hc);
        await relay.WaitForListenersAsync(hc.Path, 1);

        await listener.CloseAsync();

        await relay.WaitForListenersAsync(hc.Path, 0);
        Assert.False(listener.IsOnline);
        Assert.Null(await listener.AcceptConnectionAsync());
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task Http_NestedPaths_RouteToLongestMatchingHybridConnection()
    {
        var outer = $"nest-{Guid.NewGuid().ToString("N")[..8]}";
        var inner = outer + "/inner";
        await using var outerListener = await OpenListenerAsync(await CreateAsync(outer), "outer");
        await using var innerListener = await OpenListenerAsync(await CreateAsync(inner), "inner");
        using var client = new HybridConnectionClient(relay.BaseAddress, outer, options: relay.ClientOptions);

        using var toInner = await client.GetAsync("inner/x");
        using var toOuter = await client.GetAsync("other/x");

        Assert.Equal("inner", await toInner.Content.ReadAsStringAsync());
        Assert.Equal("outer", await toOuter.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Connect_AsStream_RelaysBytes()
    {
        var hc = await relay.CreateHybridConnectionAsync("stream");
        await using var listener = await OpenListenerAsync(hc);
        var echo = Task.Run(async () => await NodeCompatibilityTests.EchoAsync((await listener.AcceptConnectionAsync())!));
        using var client = Sender(hc);

        await using var stream = await client.CreateConnectionStreamAsync();
        await stream.WriteAsync("abc"u8.ToArray());
        var buffer = new byte[3];
        await stream.ReadExactlyAsync(buffer);

        Assert.Equal("abc"u8.ToArray(), buffer);
    }

    private async Task<HybridConnectionResponse> CreateAsync(string path)
    {
        using var response = await relay.Http.PostAsJsonAsync("/api/v1/relay/hybridconnections", new { path, requiresClientAuthorization = false });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<HybridConnectionResponse>())!;
    }

    private async Task<HybridConnectionListener> OpenListenerAsync(HybridConnectionResponse hc, string answer)
    {
        var listener = await OpenListenerAsync(hc);
        listener.RequestHandler = (_, _) => Task.FromResult(new RelayedHttpResponse(200, Encoding.UTF8.GetBytes(answer)));
        return listener;
    }

    private HybridConnectionClient Sender(HybridConnectionResponse hc) =>
        new(relay.BaseAddress, hc.Path, hc.AuthorizationRules[0].KeyName, hc.AuthorizationRules[0].PrimaryKey, relay.ClientOptions);

    private async Task<HybridConnectionListener> OpenListenerAsync(HybridConnectionResponse hc)
    {
        var rule = hc.AuthorizationRules[0];
        var listener = new HybridConnectionListener(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey!, relay.ClientOptions);
        await listener.OpenAsync();
        return listener;
    }

    private static string Token(string path, string keyName, string key, TimeSpan? lifetime = null) =>
        SharedAccessSignature.Create($"http://127.0.0.1/{path}", keyName, key, DateTimeOffset.UtcNow + (lifetime ?? TimeSpan.FromHours(1)));

    private Uri ListenUri(string path, string? token) =>
        new($"wss://127.0.0.1:{relay.Port}/$hc/{path}?sb-hc-action=listen&sb-hc-id=test" +
            (token is null ? "" : "&sb-hc-token=" + Uri.EscapeDataString(token)));

    private ClientWebSocket NewSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = RelayClientOptions.TrustCertificate(relay.Certificate);
        return socket;
    }

    private async Task<ClientWebSocket> ConnectAsync(Uri uri)
    {
        var socket = NewSocket();
        await socket.ConnectAsync(uri, default);
        return socket;
    }

    private async Task<HttpStatusCode> ConnectStatusAsync(Uri uri)
    {
        using var socket = NewSocket();
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, default));
        return socket.HttpStatusCode;
    }
}
