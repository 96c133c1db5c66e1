using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Causeway.Relay.Client;

namespace Causeway.Relay.Tests;

/// <summary>Microsoft's own clients (npm hyco-ws, hyco-https) against the relay, unchanged.</summary>
[Collection(RelayCollection.Name)]
public sealed class NodeCompatibilityTests(RelayFixture relay)
{
    [Fact]
    public async Task HycoWsListener_HycoWsSender_EchoesTextAndBinaryAndClose()
    {
        var hc = await relay.CreateHybridConnectionAsync("ws-echo");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("ws-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var sender = relay.StartNode("ws-sender.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await sender.WaitForLineAsync("CLOSED");

        Assert.Contains("TEXT hello text", sender.Lines);
        Assert.Contains("BINARY 010203fa", sender.Lines);
        Assert.Contains("CLOSED 4000 sender done", sender.Lines);
        Assert.Equal("CLOSED 4000 sender done", await listener.WaitForLineAsync("CLOSED"));
    }

    [Fact]
    public async Task HycoWsListener_DotNetSender_EchoesAndPropagatesCloseCode()
    {
        var hc = await relay.CreateHybridConnectionAsync("ws-dotnet-sender");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("ws-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        using var socket = await client.CreateConnectionAsync();
        await socket.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, true, default);
        var (type, payload) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("ping", Encoding.UTF8.GetString(payload));

        var binary = RandomNumberGenerator.GetBytes(100_000);
        await socket.SendAsync(binary, WebSocketMessageType.Binary, true, default);
        (type, payload) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(binary, payload);

        await socket.CloseAsync((WebSocketCloseStatus)4001, "bye", default);
        Assert.Equal("CLOSED 4001 bye", await listener.WaitForLineAsync("CLOSED"));
    }

    [Fact]
    public async Task DotNetListener_HycoWsSender_EchoesTextAndBinary()
    {
        var hc = await relay.CreateHybridConnectionAsync("ws-dotnet-listener");
        var rule = hc.AuthorizationRules[0];
        await using var listener = new HybridConnectionListener(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey!, relay.ClientOptions);
        await listener.OpenAsync();
        var echo = Task.Run(async () =>
        {
            using var socket = (await listener.AcceptConnectionAsync())!;
            await EchoAsync(socket);
            return socket.CloseStatus;
        });

        using var sender = relay.StartNode("ws-sender.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await sender.WaitForLineAsync("CLOSED");

        Assert.Contains("TEXT hello text", sender.Lines);
        Assert.Contains("BINARY 010203fa", sender.Lines);
        Assert.Equal((WebSocketCloseStatus)4000, await echo.WithTimeout("the .NET listener to see the sender's close"));
    }

    [Fact]
    public async Task HycoHttpsListener_SmallPost_RelaysRequestAndResponse()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-small");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        var body = RandomNumberGenerator.GetBytes(1000);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("items/7?x=1", UriKind.Relative)) { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Custom", "Hello");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hyco-https", response.Headers.GetValues("X-Listener").Single());
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("POST", echo.GetProperty("method").GetString());
        Assert.Equal($"/{hc.Path}/items/7?x=1", echo.GetProperty("url").GetString());
        Assert.Equal("Hello", echo.GetProperty("custom").GetString());
        Assert.Equal(1000, echo.GetProperty("length").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), echo.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task HycoHttpsListener_GetWithStatus_RelaysStatusCode()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-status");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        using var response = await client.GetAsync("teapot");

        Assert.True((HttpStatusCode)418 == response.StatusCode, $"{response.StatusCode} {await response.Content.ReadAsStringAsync()} {listener.Output}");
        Assert.Equal("GET", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("method").GetString());
    }

    [Fact]
    public async Task HycoHttpsListener_LargeRequestBody_GoesOverRendezvous()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-large-request");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        var body = RandomNumberGenerator.GetBytes(300 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("upload", UriKind.Relative)) { Content = new ByteArrayContent(body) };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("PUT", echo.GetProperty("method").GetString());
        Assert.Equal(body.Length, echo.GetProperty("length").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), echo.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task HycoHttpsListener_LargeResponseBody_ComesOverRendezvous()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-large-response");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);
        using var response = await client.GetAsync("big");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(200 * 1024, bytes.Length);
        Assert.Equal(response.Headers.GetValues("X-Sha256").Single(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Fact]
    public async Task HycoHttpsListener_NoContentThenAnotherRequest_BothAnswered()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-empty");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);
        using var client = new HybridConnectionClient(relay.BaseAddress, hc.Path, rule.KeyName, rule.PrimaryKey, relay.ClientOptions);

        using var empty = await client.GetAsync("empty");
        using var next = await client.GetAsync("after");

        Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal($"/{hc.Path}/after", JsonDocument.Parse(await next.Content.ReadAsStringAsync()).RootElement.GetProperty("url").GetString());
    }

    [Fact]
    public async Task HycoHttpsListener_NodeSenderWithQueryToken_GetsAnswer()
    {
        var hc = await relay.CreateHybridConnectionAsync("http-node-sender");
        var rule = hc.AuthorizationRules[0];
        using var listener = relay.StartNode("https-listener.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        await listener.WaitForLineAsync("READY");
        await relay.WaitForListenersAsync(hc.Path, 1);

        using var sender = relay.StartNode("https-sender.js", hc.Path, rule.KeyName, rule.PrimaryKey!);
        var status = await sender.WaitForLineAsync("STATUS");
        var body = JsonDocument.Parse((await sender.WaitForLineAsync("BODY"))["BODY ".Length..]).RootElement;

        Assert.Equal("STATUS 200", status);
        Assert.Equal($"/{hc.Path}/from-node?a=b", body.GetProperty("url").GetString());
        Assert.Equal("node", body.GetProperty("custom").GetString());
        Assert.Equal("hello from node".Length, body.GetProperty("length").GetInt32());
    }

    internal static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(WebSocket socket)
    {
        using var stream = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, default).WithTimeout("a WebSocket message");
            stream.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, stream.ToArray());
            }
        }
    }

    internal static async Task EchoAsync(WebSocket socket)
    {
        while (true)
        {
            var (type, payload) = await ReceiveAsync(socket);
            if (type == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, default);
                return;
            }

            await socket.SendAsync(payload, type, true, default);
        }
    }
}
