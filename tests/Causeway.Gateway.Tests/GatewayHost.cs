using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Causeway.Gateway.Tests;

/// <summary>A Causeway server for gateway tests: in this process (fast) or as its own process (logs captured, killable).</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string RecoveryKey = "recovery key for tests";

    private readonly TempFolder? _folder;
    private readonly WebApplication? _app;
    private readonly Process? _process;
    private readonly StringBuilder _log = new();

    private GatewayHost(string dataDirectory, Uri baseAddress, TempFolder? folder, WebApplication? app, Process? process)
    {
        DataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        _folder = folder;
        _app = app;
        _process = process;
        AdminToken = File.ReadAllText(Path.Combine(dataDirectory, "admin-token")).Trim();
        Trust = CertificateTrust.FromFile(Path.Combine(dataDirectory, "certificate.pem"));
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Uri BaseAddress { get; }

    public string AdminToken { get; }

    public string DataDirectory { get; }

    public CertificateTrust Trust { get; }

    /// <summary>The services of an in-process server.</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server runs as a process.");

    public string CertificatePath => Path.Combine(DataDirectory, "certificate.pem");

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>In this process, heartbeats every second so that status changes are quick to observe even on a busy machine.</summary>
    public static async Task<GatewayHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var folder = new TempFolder("causeway-gateway");
        try
        {
            // Other components' extra listeners (relay) get free ports too, so hosts of parallel tests never collide.
            var all = new Dictionary<string, string?> { ["Gateway:HeartbeatInterval"] = "00:00:01", ["Server:RelayPort"] = "0" };
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            {
                all[k] = v;
            }

            var app = await CausewayServer.BuildAsync(["--data-dir", folder.Path, "--port", "0"], builder => builder.Configuration.AddInMemoryCollection(all));
            await app.StartAsync();
            return new GatewayHost(folder.Path, new Uri(CausewayServer.ReadyUrl(app)), folder, app, null);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>The server program as its own process with debug logging, on <paramref name="port"/> (0: any).</summary>
    public static async Task<GatewayHost> StartProcessAsync(string dataDirectory, int port = 0)
    {
        var program = Path.Combine(Path.GetDirectoryName(typeof(CausewayServer).Assembly.Location)!, "Causeway.Server.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { program, "--data-dir", dataDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["CAUSEWAY_Logging__LogLevel__Default"] = "Debug";
        start.Environment["CAUSEWAY_Logging__LogLevel__Microsoft.AspNetCore"] = "Debug";
        start.Environment["CAUSEWAY_Gateway__HeartbeatInterval"] = "00:00:00.500";
        start.Environment["CAUSEWAY_Server__RelayPort"] = "0";
        var process = Process.Start(start)!;
        var log = new StringBuilder();
        void Append(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        const string Ready = "Causeway is ready at ";
        string Text()
        {
            lock (log)
            {
                return log.ToString();
            }
        }

        await Poll.UntilAsync(() => Text().Contains(Ready, StringComparison.Ordinal) || process.HasExited, TimeSpan.FromSeconds(60), "the server process to print its ready line");
        var line = Text().Split('\n').FirstOrDefault(l => l.StartsWith(Ready, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The server exited before it was ready:\n{Text()}");
        var host = new GatewayHost(dataDirectory, new Uri(line[Ready.Length..].Trim()), null, null, process);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host.Append(Text());
        return host;
    }

    public HttpClient Client(string? token)
    {
        var client = new HttpClient(Trust.CreateHandler()) { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<string> CreateTenantAsync(string name)
    {
        using var admin = Client(AdminToken);
        var response = await admin.PostAsJsonAsync("/api/v1/tenants", new { name, administrator = "boss" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>Registers a cluster the way the agent does (key made here) and returns the cluster id, member credential and key.</summary>
    public async Task<(Guid ClusterId, string Credential, RSA Key)> CreateClusterAsync(string name, string geography = "unitedstates", string? token = null)
    {
        var key = GatewayEnvelope.CreateKey();
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
        return (body.GetProperty("cluster").GetProperty("id").GetGuid(), body.GetProperty("member").GetProperty("credential").GetString()!, key);
    }

    public async Task<JsonElement> GetAsync(string path, string? token = null)
    {
        using var client = Client(token ?? AdminToken);
        var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Ends the server process at once (as a crash would).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await KillAsync();
        _process?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
