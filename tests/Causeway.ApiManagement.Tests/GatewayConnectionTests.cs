using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Gateway.Agent;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Causeway.ApiManagement.Tests;

/// <summary>
/// A server in this process whose every log line (debug level) is kept, a real PostgreSQL, a copy of the Chinook SQLite
/// file and one registered <c>causeway-gateway</c> agent running as its own process.
/// </summary>
public sealed class GatewayConnectionFixture : IAsyncLifetime
{
    public const string RecoveryKey = "recovery key for connection tests";

    private readonly TempFolder _folder = new("causeway-gwconn");
    private WebApplication _app = null!;
    private ProgramProcess _agent = null!;

    public PostgresServer Postgres { get; } = new();

    public LogCapture Log { get; } = new();

    public string DataDirectory => _folder.Combine("server");

    public string AdminToken { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public Guid Environment { get; private set; }

    public Guid ClusterId { get; private set; }

    public string SqlitePath => _folder.Combine("chinook.sqlite");

    public string AgentOutput => _agent.Output;

    private CertificateTrust _trust = null!;

    public async Task InitializeAsync()
    {
        var postgres = Postgres.InitializeAsync();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_Sqlite.sqlite"), SqlitePath);
        _app = await CausewayServer.BuildAsync(["--data-dir", DataDirectory, "--port", "0"], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:RelayPort"] = "0",
            ["Gateway:HeartbeatInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Debug",
        }));
        _app.Services.GetRequiredService<ILoggerFactory>().AddProvider(Log);
        await _app.StartAsync();
        BaseAddress = new Uri(CausewayServer.ReadyUrl(_app));
        AdminToken = File.ReadAllText(Path.Combine(DataDirectory, "admin-token")).Trim();
        _trust = CertificateTrust.FromFile(Path.Combine(DataDirectory, "certificate.pem"));
        using var admin = Client(AdminToken);
        Environment = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray()
            .First(e => e.GetProperty("type").GetString() == "default").GetProperty("id").GetGuid();

        // Registration in this process (it only calls the REST API); the agent itself runs as its own program.
        using (var output = new StringWriter())
        using (var error = new StringWriter())
        {
            var agentDir = _folder.Combine("agent");
            var code = await AgentApp.RunAsync(
                ["register", "--server", BaseAddress.ToString(), "--token", AdminToken, "--name", "hq", "--region", "unitedstates", "--recovery-key", RecoveryKey,
                 "--data-dir", agentDir, "--trust-certificate", Path.Combine(DataDirectory, "certificate.pem"), "--json", "--kdf-iterations", "100000"], output, error);
            Assert.True(code == 0, $"register failed ({code}): {error}");
            ClusterId = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("clusterId").GetGuid();
            _agent = StartAgent(agentDir);
        }

        await Poll.UntilAsync(async () =>
        {
            var cluster = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{ClusterId}");
            return cluster.GetProperty("status").GetString() == "online";
        }, TimeSpan.FromSeconds(60), "the agent process to connect and its cluster to be online");
        await postgres;
    }

    public HttpClient Client(string? token)
    {
        var client = new HttpClient(_trust.CreateHandler()) { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Creates a PostgreSQL database with a small table and returns its name.</summary>
    public async Task<string> CreateShopDatabaseAsync(string name)
    {
        var connectionString = await Postgres.CreateDatabaseAsync(name);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "CREATE TABLE product (product_id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2) NOT NULL); " +
            "INSERT INTO product VALUES (1, 'kettle', 25.00), (2, 'teapot', 18.50), (3, 'cup', 4.25);", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Registers a cluster through the REST API the way the agent does (no agent runs for it).</summary>
    public async Task<Guid> CreateClusterAsync(string name, string geography, string? token = null)
    {
        using var key = GatewayEnvelope.CreateKey();
        using var client = Client(token ?? AdminToken);
        var response = await client.PostAsJsonAsync("/api/v1/gateways", new
        {
            name,
            geography,
            publicKey = GatewayEnvelope.ExportPublicKey(key),
            escrowedKey = KeyFile.Protect(key, RecoveryKey, KeyFile.MinimumIterations),
            member = new { name = "first", version = "test" },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("cluster").GetProperty("id").GetGuid();
    }

    public async Task<string> CreateTenantAsync(string name)
    {
        using var admin = Client(AdminToken);
        var response = await admin.PostAsJsonAsync("/api/v1/tenants", new { name, administrator = "boss" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Postgres.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    /// <summary>
    /// The agent from its own build folder (artifacts/bin/Causeway.Gateway.Agent/{configuration}/): the copy next to this
    /// test lacks assemblies that ASP.NET's shared framework gives the test but not a plain console program.
    /// </summary>
    private ProgramProcess StartAgent(string dataDir) =>
        ProgramProcess.Start(ProgramProcess.Locate("Causeway.Gateway.Agent", "causeway-gateway.dll"), ["run", "--data-dir", dataDir, "--recovery-key", RecoveryKey],
            new Dictionary<string, string?>
            {
                [AgentApp.RecoveryKeyVariable] = null,
            });
}

/// <summary>Keeps every log line of the server, with exceptions, to look for secrets in it.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly StringBuilder _text = new();

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._text)
            {
                owner._text.Append(logLevel).Append(' ').Append(category).Append(": ").AppendLine(formatter(state, exception));
                if (exception is not null)
                {
                    owner._text.AppendLine(exception.ToString());
                }
            }
        }
    }
}

/// <summary>
/// Gateway connections end to end: connections of the built-in "SQL via gateway" connector whose credentials are sealed
/// for the gateway cluster, tested and called through <c>/apim</c>, the operations running in a real agent process
/// against SQLite and PostgreSQL.
/// </summary>
public sealed class GatewayConnectionTests(GatewayConnectionFixture fixture) : IClassFixture<GatewayConnectionFixture>
{
    // Chinook's columns are PascalCase; the web defaults would send camelCase names.
    private static readonly JsonSerializerOptions AsWritten = new();

    private string ConnectionsUrl => $"/api/v1/environments/{fixture.Environment}/connections";

    [Fact]
    public async Task SqliteConnection_ThroughAgentProcess_TestsQueriesPagesAndWritesRows()
    {
        using var client = fixture.Client(fixture.AdminToken);
        var connection = await CreateAsync(client, new
        {
            connector = "sql-gateway",
            displayName = "chinook",
            gateway = fixture.ClusterId,
            parameters = new { databaseType = "sqlite", server = fixture.SqlitePath },
        });
        var id = connection.GetProperty("id").GetGuid();
        Assert.Equal(fixture.ClusterId, connection.GetProperty("gateway").GetGuid());
        var apim = $"/apim/sql-gateway/{id}/v2/datasets/default/tables";

        var test = await client.PostAsync($"{ConnectionsUrl}/{id}/test", null);
        Assert.Equal("Connected", (await test.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        var tables = await GetJsonAsync(client, apim);
        Assert.Contains(tables.GetProperty("value").EnumerateArray(), t => t.GetProperty("Name").GetString() == "Artist");

        var filtered = await GetJsonAsync(client, $"{apim}/Artist/items?$filter=ArtistId lt 4&$orderby=ArtistId desc&$top=2&$select=ArtistId,Name");
        Assert.Equal([3, 2], filtered.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("ArtistId").GetInt32()));

        // Paging: the next link points back at /apim and carries on where the first page ended.
        using var paged = new HttpRequestMessage(HttpMethod.Get, $"{apim}/Artist/items?$filter=ArtistId le 5&$orderby=ArtistId");
        paged.Headers.Add("Prefer", "odata.maxpagesize=2");
        var first = await client.SendAsync(paged);
        Assert.Equal("odata.maxpagesize=2", first.Headers.GetValues("Preference-Applied").Single());
        var firstPage = await first.Content.ReadFromJsonAsync<JsonElement>();
        var next = firstPage.GetProperty("@odata.nextLink").GetString()!;
        Assert.StartsWith(new Uri(fixture.BaseAddress, $"/apim/sql-gateway/{id}/v2/datasets/default/tables/Artist?").ToString(), next, StringComparison.Ordinal);
        using var following = new HttpRequestMessage(HttpMethod.Get, next);
        following.Headers.Add("Prefer", "odata.maxpagesize=2");
        var secondPage = await (await client.SendAsync(following)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(secondPage.TryGetProperty("@odata.nextLink", out _), secondPage.ToString());
        Assert.Equal([1, 2], firstPage.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("ArtistId").GetInt32()));
        Assert.Equal([3, 4], secondPage.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("ArtistId").GetInt32()));

        var acdc = await GetJsonAsync(client, $"{apim}/Artist/items/1");
        Assert.Equal("AC/DC", acdc.GetProperty("Name").GetString());
        // A row crossed the bus whole, so it goes out with its length rather than chunked.
        using var one = await client.GetAsync($"{apim}/Artist/items/1");
        Assert.True(one.Content.Headers.ContentLength > 0, "a single row came without a Content-Length");
        Assert.NotEqual(true, one.Headers.TransferEncodingChunked);

        // An insert retried with the same idempotency key is carried out once.
        HttpResponseMessage? inserted = null;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var insert = new HttpRequestMessage(HttpMethod.Post, $"{apim}/Artist/items") { Content = JsonContent.Create(new { ArtistId = 9001, Name = "Causeway Quartet" }, options: AsWritten) };
            insert.Headers.Add("Idempotency-Key", "insert-quartet-1");
            inserted = await client.SendAsync(insert);
            Assert.True(inserted.StatusCode == HttpStatusCode.Created, await inserted.Content.ReadAsStringAsync());
        }

        Assert.Equal("Causeway Quartet", (await inserted!.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Name").GetString());
        var again = await client.PostAsJsonAsync($"{apim}/Artist/items", new { ArtistId = 9001, Name = "Causeway Quartet" }, AsWritten);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var patched = await client.PatchAsJsonAsync($"{apim}/Artist/items/9001", new { Name = "Causeway Quintet" }, AsWritten);
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        Assert.Equal("Causeway Quintet", (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Name").GetString());
        Assert.Equal("Causeway Quintet", await ReadSqliteNameAsync(9001));

        var deleted = await client.DeleteAsync($"{apim}/Artist/items/9001");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Null(await ReadSqliteNameAsync(9001));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{apim}/Artist/items/9001")).StatusCode);

        var badFilter = await client.GetAsync($"{apim}/Artist/items?$filter=Nope eq 1");
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.StatusCode);
        var unknownTable = await client.GetAsync($"{apim}/Nope/items");
        Assert.Equal(HttpStatusCode.NotFound, unknownTable.StatusCode);
    }

    [Fact]
    public async Task PostgresConnection_CanaryPassword_RowsFlowButPasswordIsNowhereOnTheServer()
    {
        var canary = $"canary-password-{Guid.NewGuid():N}";
        var database = await fixture.CreateShopDatabaseAsync("shop_canary");
        using var client = fixture.Client(fixture.AdminToken);
        var responses = new StringBuilder();
        var created = await client.PostAsJsonAsync(ConnectionsUrl, new
        {
            connector = "sql-gateway",
            gateway = fixture.ClusterId.ToString(),
            parameters = new { databaseType = "postgresql", server = $"127.0.0.1:{fixture.Postgres.Port}", database, username = "postgres", password = canary },
        });
        var createdText = await created.Content.ReadAsStringAsync();
        responses.Append(createdText);
        Assert.True(created.StatusCode == HttpStatusCode.Created, createdText);
        var id = JsonDocument.Parse(createdText).RootElement.GetProperty("id").GetGuid();
        var apim = $"/apim/sql-gateway/{id}/v2/datasets/{database}/tables";

        var test = await client.PostAsync($"{ConnectionsUrl}/{id}/test", null);
        var testText = await test.Content.ReadAsStringAsync();
        responses.Append(testText);
        Assert.Equal("Connected", JsonDocument.Parse(testText).RootElement.GetProperty("status").GetString());

        var rows = await client.GetStringAsync($"{apim}/product/items?$filter=price gt 10&$orderby=name");
        responses.Append(rows);
        Assert.Equal(["kettle", "teapot"], JsonDocument.Parse(rows).RootElement.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        var inserted = await client.PostAsJsonAsync($"{apim}/product/items", new { product_id = 4, name = "saucer", price = 3.10m });
        responses.Append(await inserted.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, inserted.StatusCode);
        await using (var check = new NpgsqlConnection(fixture.Postgres.ConnectionStringFor(database)))
        {
            await check.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT name FROM product WHERE product_id = 4", check);
            Assert.Equal("saucer", await command.ExecuteScalarAsync());
        }

        foreach (var path in new[] { ConnectionsUrl, $"{ConnectionsUrl}/{id}", "/api/v1/connectors/sql-gateway", $"/api/v1/gateways/{fixture.ClusterId}" })
        {
            responses.Append(await client.GetStringAsync(path));
        }

        Assert.Contains("\"password\"", createdText, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, responses.ToString(), StringComparison.Ordinal);
        Assert.Contains("apim sql-gateway", fixture.Log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, fixture.Log.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(canary, fixture.AgentOutput, StringComparison.Ordinal);
        var needle = Encoding.UTF8.GetBytes(canary);
        var files = Directory.EnumerateFiles(fixture.DataDirectory, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal) || f.EndsWith(".db-wal", StringComparison.Ordinal));
        foreach (var file in files)
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy);
                bytes = copy.ToArray();
            }

            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"the canary password is in {file}");
        }
    }

    [Fact]
    public async Task PostgresConnection_UnknownUser_TestIsErrorAndCallIs502WithoutSecrets()
    {
        var database = await fixture.CreateShopDatabaseAsync("shop_login");
        var secret = $"secret-{Guid.NewGuid():N}";
        using var client = fixture.Client(fixture.AdminToken);
        var connection = await CreateAsync(client, new
        {
            connector = "sql-gateway",
            gateway = fixture.ClusterId,
            parameters = new { databaseType = "postgresql", server = $"127.0.0.1,{fixture.Postgres.Port}", database, username = "nobody_here", password = secret },
        });
        var id = connection.GetProperty("id").GetGuid();

        var test = await (await client.PostAsync($"{ConnectionsUrl}/{id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        var call = await client.GetAsync($"/apim/sql-gateway/{id}/v2/datasets/default/tables/product/items");
        var callText = await call.Content.ReadAsStringAsync();
        var stored = await GetJsonAsync(client, $"{ConnectionsUrl}/{id}");

        Assert.Equal("Error", test.GetProperty("status").GetString());
        Assert.Contains("refused the user name or password", test.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Error", stored.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadGateway, call.StatusCode);
        Assert.Contains("DataSourceLoginFailed", callText, StringComparison.Ordinal);
        foreach (var text in new[] { test.ToString(), callText, stored.ToString() })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CreateConnection_GatewayMissingUnknownOtherTenantOrOtherGeography_400SayingWhyAndNothingStored()
    {
        using var client = fixture.Client(fixture.AdminToken);
        var europe = await fixture.CreateClusterAsync($"eu-{Guid.NewGuid():N}"[..12], "europe");
        var otherTenant = await fixture.CreateTenantAsync($"other-{Guid.NewGuid():N}"[..14]);
        var foreign = await fixture.CreateClusterAsync("foreign", "unitedstates", otherTenant);
        var before = (await GetJsonAsync(client, ConnectionsUrl)).GetArrayLength();
        object Body(object? gateway) => new { connector = "sql-gateway", gateway, parameters = new { databaseType = "sqlite", server = fixture.SqlitePath } };

        var missing = await client.PostAsJsonAsync(ConnectionsUrl, Body(null));
        var notGuid = await client.PostAsJsonAsync(ConnectionsUrl, Body("hq"));
        var unknown = await client.PostAsJsonAsync(ConnectionsUrl, Body(Guid.NewGuid()));
        var ofOtherTenant = await client.PostAsJsonAsync(ConnectionsUrl, Body(foreign));
        var wrongRegion = await client.PostAsJsonAsync(ConnectionsUrl, Body(europe));
        var badType = await client.PostAsJsonAsync(ConnectionsUrl, new { connector = "sql-gateway", gateway = fixture.ClusterId, parameters = new { databaseType = "oracle", server = "db" } });
        var noDatabase = await client.PostAsJsonAsync(ConnectionsUrl, new { connector = "sql-gateway", gateway = fixture.ClusterId, parameters = new { databaseType = "postgresql", server = "db:5432" } });

        foreach (var response in new[] { missing, notGuid, unknown, ofOtherTenant, wrongRegion, badType, noDatabase })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Contains("give \"gateway\"", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("has no gateway cluster", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("has no gateway cluster", await ofOtherTenant.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var region = await wrongRegion.Content.ReadAsStringAsync();
        Assert.Contains("serves geography 'europe'", region, StringComparison.Ordinal);
        Assert.Contains("'unitedstates'", region, StringComparison.Ordinal);
        Assert.Contains("databaseType", await badType.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("'database' is required", await noDatabase.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, (await GetJsonAsync(client, ConnectionsUrl)).GetArrayLength());
    }

    [Fact]
    public async Task Call_GatewayWithNoMemberOnline_503NamingTheClusterAndTestSaysWhy()
    {
        using var client = fixture.Client(fixture.AdminToken);
        var name = $"dark-{Guid.NewGuid():N}"[..13];
        var offline = await fixture.CreateClusterAsync(name, "unitedstates");
        var connection = await CreateAsync(client, new { connector = "sql-gateway", gateway = offline, parameters = new { databaseType = "sqlite", server = fixture.SqlitePath } });
        var id = connection.GetProperty("id").GetGuid();

        var call = await client.GetAsync($"/apim/sql-gateway/{id}/v2/datasets/default/tables/Artist/items");
        var write = await client.PostAsJsonAsync($"/apim/sql-gateway/{id}/v2/datasets/default/tables/Artist/items", new { ArtistId = 9100, Name = "x" });
        var test = await (await client.PostAsync($"{ConnectionsUrl}/{id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, call.StatusCode);
        Assert.Contains($"'{name}'", await call.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        Assert.Equal("Error", test.GetProperty("status").GetString());
        Assert.Contains($"'{name}' has no member online", test.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Null(await ReadSqliteNameAsync(9100));
    }

    private async Task<JsonElement> CreateAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync(ConnectionsUrl, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating a connection: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string?> ReadSqliteNameAsync(int artistId)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={fixture.SqlitePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Name FROM Artist WHERE ArtistId = $id";
        command.Parameters.AddWithValue("$id", artistId);
        return await command.ExecuteScalarAsync() as string;
    }
}
