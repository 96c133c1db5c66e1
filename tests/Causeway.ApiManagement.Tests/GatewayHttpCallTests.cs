using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Causeway.Gateway.Agent;
using Causeway.Security;
using Causeway.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement.Tests;

/// <summary>
/// A server in this process (every log line kept), a recording HTTP backend, one registered <c>causeway-gateway</c> agent
/// running as its own process and allowed to call only 127.0.0.1, the real Connect Bridge package and a gateway connector
/// with an API key. Connector hosts are redirected with ApiManagement:BackendOverrides; the agent connects to the override
/// and sends the connector's host in the Host header.
/// </summary>
public sealed class GatewayHttpFixture : IAsyncLifetime
{
    public const string RecoveryKey = "recovery key for gateway http tests";

    /// <summary>The gateway's limit on a request message, the smallest allowed.</summary>
    public const int MaxMessageSize = 65536;

    private readonly TempFolder _folder = new("causeway-gwhttp");
    private ProgramProcess _agent = null!;

    public TestBackend Backend { get; private set; } = null!;

    public ServerHost Host { get; private set; } = null!;

    public LogCapture Log { get; } = new();

    public HttpClient Admin { get; private set; } = null!;

    public Guid Environment { get; private set; }

    public Guid ClusterId { get; private set; }

    public string ConnectBridge { get; private set; } = null!;

    public string CorpFiles { get; private set; } = null!;

    public string CorpWiki { get; private set; } = null!;

    public string AgentOutput => _agent.Output;

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        Host = await ServerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Gateway:HeartbeatInterval"] = "00:00:01",
            ["Gateway:MaxMessageSize"] = MaxMessageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ApiManagement:BackendTimeoutSeconds"] = "2",
            ["Logging:LogLevel:Default"] = "Debug",

            // Connect Bridge's swagger host is localhost:4433 (the Connect Bridge server next to the gateway).
            ["ApiManagement:BackendOverrides:localhost"] = Backend.BaseUrl,
            ["ApiManagement:BackendOverrides:files.corp.example"] = Backend.BaseUrl,
            ["ApiManagement:BackendOverrides:wiki.corp.example"] = Backend.BaseUrl,
            ["ApiManagement:BackendOverrides:down.corp.example"] = $"http://127.0.0.1:{ClosedPort()}",

            // The agent may call 127.0.0.1 only: "localhost" is refused by its allow list.
            ["ApiManagement:BackendOverrides:elsewhere.corp.example"] = Backend.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal),
        });
        Host.Services.GetRequiredService<ILoggerFactory>().AddProvider(Log);
        Admin = Host.Client(Host.AdminToken);
        Environment = (await Admin.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray()
            .First(e => e.GetProperty("type").GetString() == "default").GetProperty("id").GetGuid();

        var agentDir = _folder.Combine("agent");
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        {
            var code = await AgentApp.RunAsync(
                ["register", "--server", Host.BaseAddress.ToString(), "--token", Host.AdminToken, "--name", "plant", "--region", "unitedstates",
                 "--recovery-key", RecoveryKey, "--data-dir", agentDir, "--trust-certificate", Path.Combine(Host.DataDirectory, "certificate.pem"), "--json",
                 "--kdf-iterations", "100000"], output, error);
            Assert.True(code == 0, $"register failed ({code}): {error}");
            ClusterId = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("clusterId").GetGuid();
        }

        _agent = StartAgent(agentDir);
        ConnectBridge = await ImportAsync(ConnectBridgePackage());
        CorpFiles = await ImportAsync(CorpFilesPackage());
        CorpWiki = await ImportAsync(CorpWikiPackage());
        await Poll.UntilAsync(async () =>
        {
            var cluster = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{ClusterId}");
            return cluster.GetProperty("status").GetString() == "online";
        }, TimeSpan.FromSeconds(60), "the agent process to connect and its cluster to be online");
    }

    /// <summary>Registers a cluster through the REST API the way the agent does (no agent runs for it).</summary>
    public async Task<Guid> CreateClusterAsync(string name)
    {
        using var key = GatewayEnvelope.CreateKey();
        var response = await Admin.PostAsJsonAsync("/api/v1/gateways", new
        {
            name,
            geography = "unitedstates",
            publicKey = GatewayEnvelope.ExportPublicKey(key),
            escrowedKey = KeyFile.Protect(key, RecoveryKey, KeyFile.MinimumIterations),
            member = new { name = "first", version = "test" },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("cluster").GetProperty("id").GetGuid();
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Admin.Dispose();
        await Host.DisposeAsync();
        await Backend.DisposeAsync();
        _folder.Dispose();
    }

    /// <summary>The real package, script included (it serves only FormatQuery).</summary>
    private static object ConnectBridgePackage() => TestConnectors.Carried("Connect Bridge", withScript: true);

    /// <summary>
    /// A file service inside the company network: API key header, the host from the connection (dynamichosturl), a request
    /// header policy and a response header policy; a gateway connection with a CustomConnector gatewaySetting.
    /// </summary>
    private static object CorpFilesPackage() => TestConnectors.Body(
        """
            {
              "swagger": "2.0",
              "info": { "title": "Corp Files", "version": "1.0" },
              "host": "files.corp.example",
              "basePath": "/api",
              "schemes": ["https"],
              "securityDefinitions": { "key": { "type": "apiKey", "in": "header", "name": "X-Api-Key" } },
              "paths": {
                "/files": {
                  "post": { "operationId": "CreateFile", "parameters": [ { "name": "body", "in": "body", "required": true, "schema": { "type": "object" } } ], "responses": { "201": { "description": "created" } } }
                },
                "/files/{name}": {
                  "get": { "operationId": "GetFile", "parameters": [ { "name": "name", "in": "path", "required": true, "type": "string" }, { "name": "version", "in": "query", "type": "integer" }, { "name": "X-Client", "in": "header", "type": "string" } ], "responses": { "200": { "description": "ok" } } }
                },
                "/export": { "get": { "operationId": "Export", "responses": { "200": { "description": "ok" } } } },
                "/slow": { "get": { "operationId": "Slow", "responses": { "200": { "description": "ok" } } } },
                "/trickle": { "get": { "operationId": "Trickle", "responses": { "200": { "description": "ok" } } } }
              }
            }
            """,
        """
            {
              "properties": {
                "connectionParameters": {
                  "api_key": { "type": "securestring", "uiDefinition": { "displayName": "Key", "constraints": { "required": "true" } } },
                  "hostName": { "type": "string", "uiDefinition": { "displayName": "Host", "constraints": { "required": "true" } } },
                  "gateway": { "type": "gatewaySetting", "gatewaySettings": { "dataSourceType": "CustomConnector", "connectionDetails": [] }, "uiDefinition": { "constraints": { "required": "true", "capability": ["gateway"] } } }
                },
                "capabilities": ["gateway"],
                "publisher": "Contoso",
                "policyTemplateInstances": [
                  { "templateId": "dynamichosturl", "title": "Host", "parameters": { "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('hostName')/api" } },
                  { "templateId": "setheader", "title": "Via", "parameters": { "x-ms-apimTemplateParameter.name": "X-Requested-Via", "x-ms-apimTemplateParameter.value": "causeway", "x-ms-apimTemplateParameter.existsAction": "override", "x-ms-apimTemplate-policySection": "Request" } },
                  { "templateId": "setheader", "title": "Served by", "parameters": { "x-ms-apimTemplateParameter.name": "X-Served-By", "x-ms-apimTemplateParameter.value": "causeway", "x-ms-apimTemplateParameter.existsAction": "override", "x-ms-apimTemplate-policySection": "Response" } }
                ]
              }
            }
            """);

    /// <summary>Basic authentication: the user name in clear with the connection, the password sealed for the gateway.</summary>
    private static object CorpWikiPackage() => TestConnectors.Body(
        """
            {
              "swagger": "2.0",
              "info": { "title": "Corp Wiki", "version": "1.0" },
              "host": "wiki.corp.example:8443",
              "basePath": "/rest",
              "schemes": ["https"],
              "securityDefinitions": { "basic": { "type": "basic" } },
              "paths": {
                "/pages/{id}": { "get": { "operationId": "GetPage", "parameters": [ { "name": "id", "in": "path", "required": true, "type": "integer" } ], "responses": { "200": { "description": "ok" } } } }
              }
            }
            """,
        """
            {
              "properties": {
                "connectionParameters": {
                  "username": { "type": "string", "uiDefinition": { "displayName": "User", "constraints": { "required": "true" } } },
                  "password": { "type": "securestring", "uiDefinition": { "displayName": "Password", "constraints": { "required": "true" } } },
                  "gateway": { "type": "gatewaySetting", "gatewaySettings": { "dataSourceType": "CustomConnector", "connectionDetails": [] }, "uiDefinition": { "constraints": { "required": "true", "capability": ["gateway"] } } }
                },
                "capabilities": ["gateway"],
                "publisher": "Contoso"
              }
            }
            """);

    /// <summary>A loopback port nothing listens on (taken from the system, then released).</summary>
    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task<string> ImportAsync(object package)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/connectors", package);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"importing: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("name").GetString()!;
    }

    /// <summary>The agent from its own build folder, as in <see cref="GatewayConnectionFixture"/>, with an allow list of one host.</summary>
    private ProgramProcess StartAgent(string dataDir) =>
        ProgramProcess.Start(ProgramProcess.Locate("Causeway.Gateway.Agent", "causeway-gateway.dll"), ["run", "--data-dir", dataDir, "--recovery-key", RecoveryKey],
            new Dictionary<string, string?>
            {
                [AgentApp.RecoveryKeyVariable] = null,
                ["CAUSEWAY_GATEWAY_HTTP_ALLOWED_HOSTS"] = "127.0.0.1",
            });
}

/// <summary>
/// Operations of custom connectors' gateway connections: built by the server without credentials, sent over the bus
/// (WebSocket transport) to a real agent process, which injects the credentials it alone can open and calls the backend.
/// </summary>
public sealed class GatewayHttpCallTests(GatewayHttpFixture fixture) : IClassFixture<GatewayHttpFixture>
{
    private const string Canary = "corp-files-key-canary-5f1e0c";

    private string ConnectionsUrl => $"/api/v1/environments/{fixture.Environment}/connections";

    [Fact]
    public async Task ConnectBridge_Operation_RunsOnTheAgent_BackendGetsTheExactRequestAndCallerTheExactAnswer()
    {
        Drain();
        var connection = await CreateAsync(new { connector = fixture.ConnectBridge, parameters = new { authType = "none", gateway = fixture.ClusterId.ToString() } });
        var id = connection.GetProperty("id").GetGuid();
        fixture.Backend.Respond = async context =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.Headers["X-Connect-Bridge"] = "session-41";
            await context.Response.WriteAsync("""{"ConnectionId":"c-77","Status":"Open"}""");
        };
        var body = """{"ConnectionString":"Account=plant;Target=erp","Timeout":30}""";

        var test = await fixture.Admin.PostAsync($"{ConnectionsUrl}/{id}/test", null);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var call = await fixture.Admin.PostAsync($"/apim/{fixture.ConnectBridge}/{id}/WsDriver/rest/CreateConnection", content);
        var answer = await call.Content.ReadAsStringAsync();

        Assert.Equal("Connected", (await test.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.True(call.StatusCode == HttpStatusCode.OK, answer);
        Assert.Equal("""{"ConnectionId":"c-77","Status":"Open"}""", answer);
        Assert.Equal("session-41", call.Headers.GetValues("X-Connect-Bridge").Single());
        Assert.Equal("application/json; charset=utf-8", call.Content.Headers.ContentType!.ToString());
        var received = fixture.Backend.Single();
        Assert.Equal("POST", received.Method);
        Assert.Equal("localhost:4433", received.Host);
        Assert.Equal("/WsDriver/rest/CreateConnection?format=json", received.Target); // the package's setqueryparameter policy
        Assert.Equal(body, received.BodyText);
        Assert.Equal("application/json; charset=utf-8", received.Header("Content-Type"));
        Assert.Null(received.Header("Authorization"));
    }

    [Fact]
    public async Task ApiKeyConnection_AgentInjectsTheKey_CanaryNowhereOnTheServer()
    {
        Drain();
        var created = await CreateAsync(new
        {
            connector = fixture.CorpFiles,
            displayName = "files",
            parameters = new { api_key = Canary, hostName = "files.corp.example", gateway = fixture.ClusterId.ToString() },
        });
        var id = created.GetProperty("id").GetGuid();
        var apim = $"/apim/{fixture.CorpFiles}/{id}";
        fixture.Backend.Respond = async context =>
        {
            if (context.Request.Method == "POST")
            {
                context.Response.StatusCode = 201;
                context.Response.Headers.Location = "/api/files/a.txt";
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"name":"a.txt","id":9}""");
                return;
            }

            context.Response.ContentType = "text/plain";
            context.Response.Headers.ETag = "\"v2\"";
            await context.Response.WriteAsync("quarterly report, version 2");
        };

        using var get = new HttpRequestMessage(HttpMethod.Get, $"{apim}/files/report%20q3.txt?version=2");
        get.Headers.Add("X-Client", "plant-floor");
        get.Headers.Add("X-Not-Declared", "stays-here");
        var read = await fixture.Admin.SendAsync(get);
        var readText = await read.Content.ReadAsStringAsync();
        var readRequest = fixture.Backend.Single();

        // A POST with an idempotency key, sent twice: the backend sees it once, both callers get its answer.
        var writes = new List<(HttpResponseMessage Response, string Text)>();
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var post = new HttpRequestMessage(HttpMethod.Post, $"{apim}/files") { Content = new StringContent("""{"name":"a.txt","size":3}""", Encoding.UTF8, "application/json") };
            post.Headers.Add("Idempotency-Key", "create-a-txt");
            var response = await fixture.Admin.SendAsync(post);
            writes.Add((response, await response.Content.ReadAsStringAsync()));
        }

        var writeRequest = fixture.Backend.Single();
        var test = await fixture.Admin.PostAsync($"{ConnectionsUrl}/{id}/test", null);
        var testText = await test.Content.ReadAsStringAsync();
        var shown = await fixture.Admin.GetStringAsync($"{ConnectionsUrl}/{id}");
        var listed = await fixture.Admin.GetStringAsync(ConnectionsUrl);

        Assert.True(read.StatusCode == HttpStatusCode.OK, readText);
        Assert.Equal("quarterly report, version 2", readText);
        Assert.Equal("\"v2\"", read.Headers.ETag!.Tag);
        Assert.Equal("causeway", read.Headers.GetValues("X-Served-By").Single());
        Assert.Equal("GET", readRequest.Method);
        Assert.Equal("files.corp.example", readRequest.Host);
        Assert.Equal("/api/files/report%20q3.txt?version=2", readRequest.Target);
        Assert.Equal(Canary, readRequest.Header("X-Api-Key"));
        Assert.Equal("causeway", readRequest.Header("X-Requested-Via"));
        Assert.Equal("plant-floor", readRequest.Header("X-Client"));
        Assert.Null(readRequest.Header("X-Not-Declared"));
        Assert.Null(readRequest.Header("Authorization"));
        Assert.Empty(readRequest.Body);

        Assert.All(writes, w => Assert.True(w.Response.StatusCode == HttpStatusCode.Created, w.Text));
        Assert.All(writes, w => Assert.Equal("""{"name":"a.txt","id":9}""", w.Text));
        Assert.All(writes, w => Assert.Equal("/api/files/a.txt", w.Response.Headers.Location!.OriginalString));
        Assert.Equal("/api/files", writeRequest.Target);
        Assert.Equal("""{"name":"a.txt","size":3}""", writeRequest.BodyText);
        Assert.Equal(Canary, writeRequest.Header("X-Api-Key"));

        Assert.Equal("Connected", JsonDocument.Parse(testText).RootElement.GetProperty("status").GetString());
        Assert.Contains("api_key", JsonDocument.Parse(shown).RootElement.GetProperty("secretParameters").EnumerateArray().Select(e => e.GetString()));

        // The key went to the gateway sealed: not in any answer, log line or file of the server (database and WAL included).
        foreach (var text in new[] { readText, testText, shown, listed, created.ToString(), fixture.Log.Text }.Concat(writes.Select(w => w.Text)))
        {
            Assert.DoesNotContain(Canary, text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Canary, fixture.AgentOutput, StringComparison.Ordinal);
        var needle = Encoding.UTF8.GetBytes(Canary);
        foreach (var file in Directory.EnumerateFiles(fixture.Host.DataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy);
                bytes = copy.ToArray();
            }

            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"the canary is in {file}");
        }
    }

    [Fact]
    public async Task BasicConnection_AgentAddsTheAuthorizationHeader()
    {
        Drain();
        const string Password = "wiki-password-canary-77a1";
        var id = (await CreateAsync(new { connector = fixture.CorpWiki, parameters = new { username = "svc-wiki", password = Password, gateway = fixture.ClusterId.ToString() } }))
            .GetProperty("id").GetGuid();
        fixture.Backend.Respond = TestBackend.Ok;

        var call = await fixture.Admin.GetAsync($"/apim/{fixture.CorpWiki}/{id}/pages/12");
        var text = await call.Content.ReadAsStringAsync();

        Assert.True(call.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("{\"ok\":true}", text);
        var received = fixture.Backend.Single();
        Assert.Equal("wiki.corp.example:8443", received.Host);
        Assert.Equal("/rest/pages/12", received.Target);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("svc-wiki:" + Password)), received.Header("Authorization"));
        Assert.DoesNotContain(Password, fixture.Log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backend_UnreachableSlowOrNotAllowed_Or_BodyOverTheBusLimit_ClearErrors()
    {
        Drain();
        async Task<string> ConnectAsync(string host) => (await CreateAsync(new
        {
            connector = fixture.CorpFiles,
            parameters = new { api_key = "k", hostName = host, gateway = fixture.ClusterId.ToString() },
        })).GetProperty("id").GetString()!;
        var down = await ConnectAsync("down.corp.example");
        var elsewhere = await ConnectAsync("elsewhere.corp.example");
        var files = await ConnectAsync("files.corp.example");
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Backend.Respond = async context =>
        {
            // Never answers; the agent's call is cancelled when the backend time-out (2 s) passes.
            using var registration = context.RequestAborted.Register(() => aborted.TrySetResult());
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };

        var unreachable = await fixture.Admin.GetAsync($"/apim/{fixture.CorpFiles}/{down}/export");
        var refused = await fixture.Admin.GetAsync($"/apim/{fixture.CorpFiles}/{elsewhere}/export");
        var slow = await fixture.Admin.GetAsync($"/apim/{fixture.CorpFiles}/{files}/slow");
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var large = await fixture.Admin.PostAsync($"/apim/{fixture.CorpFiles}/{files}/files",
            new StringContent($"{{\"data\":\"{new string('x', GatewayHttpFixture.MaxMessageSize)}\"}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);
        Assert.Contains("cannot be reached from the gateway: the connection failed (ConnectionRefused)", await unreachable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var refusal = await refused.Content.ReadAsStringAsync();
        Assert.Contains("not allowed to call localhost:", refusal, StringComparison.Ordinal);
        Assert.Contains("CAUSEWAY_GATEWAY_HTTP_ALLOWED_HOSTS", refusal, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Contains("did not answer the gateway within 2 s", await slow.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Contains("too large to send to gateway cluster 'plant'", await large.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Only the slow call reached the backend.
        Assert.Equal("/api/slow", fixture.Backend.Single().Target);
    }

    [Fact]
    public async Task CallerGoesAway_CancellationReachesTheBackendRequest()
    {
        Drain();
        var id = (await CreateAsync(new { connector = fixture.CorpFiles, parameters = new { api_key = "k", hostName = "files.corp.example", gateway = fixture.ClusterId.ToString() } }))
            .GetProperty("id").GetGuid();
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Backend.Respond = async context =>
        {
            // Headers and a first part at once (the bus sends bodies in chunks of 32 KB), then nothing: only the caller's
            // going away ends it.
            using var registration = context.RequestAborted.Register(() => aborted.TrySetResult());
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(new string('a', 64 * 1024), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/apim/{fixture.CorpFiles}/{id}/trickle"))
        using (var response = await fixture.Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var first = new byte[32 * 1024];
            await stream.ReadExactlyAsync(first);
            Assert.All(first, b => Assert.Equal((byte)'a', b));
        }

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task LargeResponse_StreamsThroughTheGatewayBeforeTheBackendHasFinished()
    {
        Drain();
        var id = (await CreateAsync(new { connector = fixture.CorpFiles, parameters = new { api_key = "k", hostName = "files.corp.example", gateway = fixture.ClusterId.ToString() } }))
            .GetProperty("id").GetGuid();
        const int Part = 1024 * 1024;
        const int Parts = 24;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Backend.Respond = async context =>
        {
            context.Response.ContentType = "application/octet-stream";
            var block = Pattern(Part);
            await context.Response.Body.WriteAsync(block, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);

            // The rest only once the caller has the first megabyte: a gateway that buffered the whole answer would stall here.
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60), context.RequestAborted);
            for (var i = 1; i < Parts; i++)
            {
                await context.Response.Body.WriteAsync(block, context.RequestAborted);
            }
        };

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apim/{fixture.CorpFiles}/{id}/export");
        using var response = await fixture.Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[Part];
        await stream.ReadExactlyAsync(buffer);
        Assert.True(buffer.AsSpan().SequenceEqual(Pattern(Part)), "the first megabyte differs");
        release.TrySetResult();

        long total = Part;
        int read;
        var expected = Pattern(Part);
        while ((read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            Assert.True(buffer.AsSpan(0, read).SequenceEqual(expected.AsSpan(0, read)), $"the bytes after {total} differ");
            total += read;
        }

        Assert.Equal((long)Part * Parts, total);
    }

    [Fact]
    public async Task GatewayWithNoMemberOnline_503NamingTheClusterAndTestSaysWhy()
    {
        Drain();
        var name = $"dark-{Guid.NewGuid():N}"[..13];
        var offline = await fixture.CreateClusterAsync(name);
        var id = (await CreateAsync(new { connector = fixture.CorpFiles, parameters = new { api_key = "k", hostName = "files.corp.example", gateway = offline.ToString() } }))
            .GetProperty("id").GetGuid();

        var call = await fixture.Admin.GetAsync($"/apim/{fixture.CorpFiles}/{id}/files/a.txt");
        var test = await (await fixture.Admin.PostAsync($"{ConnectionsUrl}/{id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, call.StatusCode);
        Assert.Contains($"Gateway cluster '{name}' has no member online", await call.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Error", test.GetProperty("status").GetString());
        Assert.Contains($"'{name}' has no member online", test.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(fixture.Backend.Received);
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

    private void Drain()
    {
        while (fixture.Backend.Received.TryDequeue(out _))
        {
        }
    }

    private async Task<JsonElement> CreateAsync(object body)
    {
        var response = await fixture.Admin.PostAsJsonAsync(ConnectionsUrl, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a connection: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
