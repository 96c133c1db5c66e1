using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Security;
using Causeway.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.Testing;

/// <summary>A real server in this process: Kestrel on a free loopback port, real TLS with its own certificate, a temporary data folder.</summary>
public sealed class ServerHost : IAsyncDisposable
{
    private readonly TempFolder _folder;
    private readonly WebApplication _app;
    private readonly CertificateTrust _trust;

    private ServerHost(TempFolder folder, WebApplication app)
    {
        _folder = folder;
        _app = app;
        BaseAddress = new Uri(CausewayServer.ReadyUrl(app));
        AdminToken = File.ReadAllText(Path.Combine(folder.Path, "admin-token")).Trim();
        _trust = CertificateTrust.FromFile(Path.Combine(folder.Path, "certificate.pem"));
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Uri BaseAddress { get; }

    public Uri RelayAddress => new(CausewayServer.RelayUrl(_app));

    public string AdminToken { get; }

    public string DataDirectory => _folder.Path;

    public IServiceProvider Services => _app.Services;

    public static async Task<ServerHost> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var folder = new TempFolder("causeway-server");
        try
        {
            var app = await CausewayServer.BuildAsync(["--data-dir", folder.Path, "--port", "0"], builder =>
            {
                // Every host of a test run listens on free ports, the relay's included.
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Server:RelayPort"] = "0" });
                builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
                if (time is not null)
                {
                    builder.Services.AddSingleton(time);
                }
            });
            await app.StartAsync();
            return new ServerHost(folder, app);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>A client that trusts the server's certificate (and nothing beyond the system store).</summary>
    public HttpClient Client(string? token, bool followRedirects = true)
    {
        var handler = _trust.CreateHandler();
        handler.AllowAutoRedirect = followRedirects;
        var client = new HttpClient(handler) { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>Creates a second tenant and returns its administrator's token.</summary>
    public async Task<string> CreateTenantAsync(string name)
    {
        using var admin = Client(AdminToken);
        var response = await admin.PostAsJsonAsync("/api/v1/tenants", new { name, administrator = "boss" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
