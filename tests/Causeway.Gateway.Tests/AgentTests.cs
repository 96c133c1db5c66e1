using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Gateway.Agent;
using Causeway.Platform.Database;
using Causeway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.Gateway.Tests;

public sealed class AgentTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("causeway-agent");
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Register_NewThenJoinWithSameRecoveryKey_TwoMembersWithOwnerOnlyKeyFiles()
    {
        var (cluster, first) = await Agents.RegisterAsync(_host, _folder.Combine("a"), "hq");
        var (joined, second) = await Agents.RegisterAsync(_host, _folder.Combine("b"), "hq-2", cluster);

        Assert.Equal(cluster, joined);
        Assert.NotEqual(first, second);
        var members = (await _host.GetAsync($"/api/v1/gateways/{cluster}")).GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetGuid());
        Assert.Equal([first, second], members);
        foreach (var file in new[] { _folder.Combine("a", "gateway.key"), _folder.Combine("b", "gateway.key"), _folder.Combine("b", "member-credential") })
        {
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        Assert.Contains("\"kdf\":\"pbkdf2-sha256\"", await File.ReadAllTextAsync(_folder.Combine("a", "gateway.key")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_JoinWithWrongRecoveryKey_FailsClearlyAndChangesNothing()
    {
        var (cluster, _) = await Agents.RegisterAsync(_host, _folder.Combine("a"), "hq");

        var (code, _, error) = await Agents.RunCommandAsync("register", "--server", _host.BaseAddress.ToString(), "--token", _host.AdminToken, "--name", "thief",
            "--region", "unitedstates", "--recovery-key", "not the recovery key", "--cluster", cluster.ToString(), "--data-dir", _folder.Combine("b"),
            "--trust-certificate", _host.CertificatePath);

        Assert.Equal(1, code);
        Assert.Contains("recovery key", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", error, StringComparison.Ordinal);
        Assert.DoesNotContain("not the recovery key", error, StringComparison.Ordinal);
        Assert.Single((await _host.GetAsync($"/api/v1/gateways/{cluster}")).GetProperty("members").EnumerateArray());
        Assert.False(Directory.Exists(_folder.Combine("b")) && Directory.EnumerateFiles(_folder.Combine("b")).Any());
    }

    [Fact]
    public async Task Run_ThenQueryThroughDataApi_StreamsRowsMetadataAndPages()
    {
        var dir = _folder.Combine("a");
        var (cluster, member) = await Agents.RegisterAsync(_host, dir, "hq");
        await using var agent = Agents.Start(dir);
        await Agents.WaitForStatusAsync(_host, cluster, member, "online");
        var url = await Agents.BindAsync(_host, cluster, Agents.Chinook());
        using var client = _host.Client(_host.AdminToken);

        var top = await client.GetFromJsonAsync<JsonElement>(url + "Artist?$orderby=ArtistId&$top=3&$select=Name");
        var metadata = await client.GetStringAsync(url + "$metadata");
        var service = await client.GetFromJsonAsync<JsonElement>(url);
        using var paged = new HttpRequestMessage(HttpMethod.Get, url + "Album?$orderby=AlbumId&$select=Title");
        paged.Headers.Add("Prefer", "odata.maxpagesize=2");
        var page = await client.SendAsync(paged);
        var first = await page.Content.ReadFromJsonAsync<JsonElement>();
        var next = await client.GetFromJsonAsync<JsonElement>(first.GetProperty("@odata.nextLink").GetString());
        var missing = await client.GetAsync(url + "NoSuchTable");
        using var tracks = await client.GetAsync(url + "Track?$select=Name,Composer", HttpCompletionOption.ResponseHeadersRead);
        var status = await Agents.RunCommandAsync("status", "--data-dir", dir, "--json");

        Assert.Equal(["AC/DC", "Accept", "Aerosmith"], top.GetProperty("value").EnumerateArray().Select(v => v.GetProperty("Name").GetString()));
        Assert.Contains("Name=\"Artist\"", metadata, StringComparison.Ordinal);
        Assert.Contains(service.GetProperty("value").EnumerateArray(), s => s.GetProperty("name").GetString() == "Track");
        Assert.Equal("odata.maxpagesize=2", page.Headers.GetValues("Preference-Applied").Single());
        Assert.Equal(2, first.GetProperty("value").GetArrayLength());
        // A small answer arrives whole over the bus and goes out with its length; a large one streams in chunks.
        Assert.True(page.Content.Headers.ContentLength > 0, "the small page had no Content-Length");
        Assert.NotEqual(true, page.Headers.TransferEncodingChunked);
        Assert.Equal(HttpStatusCode.OK, tracks.StatusCode);
        Assert.Null(tracks.Content.Headers.ContentLength);
        Assert.True(tracks.Headers.TransferEncodingChunked, "the large answer was not streamed");
        Assert.True((await tracks.Content.ReadAsByteArrayAsync()).Length > WebSocketBusConnection.ChunkSize);
        Assert.Equal("Restless and Wild", next.GetProperty("value")[0].GetProperty("Title").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True((await missing.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("error", out _));
        Assert.True(JsonDocument.Parse(status.Output).RootElement.GetProperty("connected").GetBoolean(), status.Output + status.Error);
    }

    [Fact]
    public async Task Query_PrimaryStops_NextMemberAnswersThenNoneIs503()
    {
        var (cluster, first) = await Agents.RegisterAsync(_host, _folder.Combine("a"), "hq");
        var (_, second) = await Agents.RegisterAsync(_host, _folder.Combine("b"), "hq-2", cluster);
        var primary = Agents.Start(_folder.Combine("a"));
        await using var secondary = Agents.Start(_folder.Combine("b"));
        await Agents.WaitForStatusAsync(_host, cluster, first, "online");
        await Agents.WaitForStatusAsync(_host, cluster, second, "online");
        var url = await Agents.BindAsync(_host, cluster, Agents.Chinook());
        using var client = _host.Client(_host.AdminToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url + "Genre")).StatusCode);

        await primary.DisposeAsync();
        await Agents.WaitForStatusAsync(_host, cluster, first, "offline");
        var failover = await client.GetAsync(url + "Genre?$top=1");
        await secondary.DisposeAsync();
        await Agents.WaitForStatusAsync(_host, cluster, second, "offline");
        var none = await client.GetAsync(url + "Genre");

        Assert.Equal(HttpStatusCode.OK, failover.StatusCode);
        Assert.Equal("Rock", (await failover.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value")[0].GetProperty("Name").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, none.StatusCode);
        Assert.Contains("'hq'", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_TamperedCiphertextOrUnreachableSource_ClearErrorsWithoutSecrets()
    {
        var dir = _folder.Combine("a");
        var (cluster, member) = await Agents.RegisterAsync(_host, dir, "hq");
        await using var agent = Agents.Start(dir);
        await Agents.WaitForStatusAsync(_host, cluster, member, "online");
        var tampered = await Agents.BindAsync(_host, cluster, Agents.Chinook("tampered"));
        var missingFile = await Agents.BindAsync(_host, cluster, new { name = "gone", type = "sqlite", connection = new { path = "/nonexistent/x.db" }, credentials = new { username = "", password = "" } });
        var closedPort = await Agents.BindAsync(_host, cluster, new
        {
            name = "closed",
            type = "postgresql",
            connection = new { host = "127.0.0.1", port = 1, database = "db" },
            credentials = new { username = "u", password = "secret-password-42" },
        });
        var database = _host.Services.GetRequiredService<SqlDatabase>();
        await using (var connection = await database.OpenAsync())
        {
            var envelope = (await Sql.QueryAsync(connection, null, "SELECT encrypted_credentials FROM gateway_datasources WHERE name = 'tampered'", r => r.GetString(0), default))[0];
            var bytes = Convert.FromBase64String(envelope);
            bytes[^5] ^= 0x01;
            await Sql.ExecuteAsync(connection, null, "UPDATE gateway_datasources SET encrypted_credentials = @e WHERE name = 'tampered'", default, ("e", Convert.ToBase64String(bytes)));
        }

        using var client = _host.Client(_host.AdminToken);
        foreach (var (url, code) in new[] { (tampered, "CredentialsUnreadable"), (missingFile, "DataSourceUnreachable"), (closedPort, "DataSourceUnreachable") })
        {
            var response = await client.GetAsync(url + "Artist");
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal(code, JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.DoesNotContain("secret-password-42", text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("secret-password-42", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_Sequence_IsZeroOneTwoFiveTenThirtyThenThirty()
    {
        Assert.Equal([0, 1, 2, 5, 10, 30, 30, 30], Enumerable.Range(0, 8).Select(i => (int)AgentRunner.DelayFor(i).TotalSeconds));
    }
}
