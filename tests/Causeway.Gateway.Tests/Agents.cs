using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Gateway.Agent;

namespace Causeway.Gateway.Tests;

/// <summary>Runs <c>causeway-gateway</c> commands in this process against a <see cref="GatewayHost"/>.</summary>
internal static class Agents
{
    public static async Task<(int Code, string Output, string Error)> RunCommandAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AgentApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Registers a member (a new cluster unless <paramref name="cluster"/> is given); returns the ids.</summary>
    public static async Task<(Guid ClusterId, Guid MemberId)> RegisterAsync(GatewayHost host, string dataDir, string name, Guid? cluster = null, string recoveryKey = GatewayHost.RecoveryKey)
    {
        var args = new List<string>
        {
            "register", "--server", host.BaseAddress.ToString(), "--token", host.AdminToken, "--name", name, "--region", "unitedstates",
            "--recovery-key", recoveryKey, "--data-dir", dataDir, "--trust-certificate", host.CertificatePath, "--json", "--kdf-iterations", "100000",
        };
        if (cluster is { } id)
        {
            args.AddRange(["--cluster", id.ToString()]);
        }

        var (code, output, error) = await RunCommandAsync([.. args]);
        Assert.True(code == 0, $"register failed ({code}): {error}");
        var json = JsonDocument.Parse(output).RootElement;
        return (json.GetProperty("clusterId").GetGuid(), json.GetProperty("memberId").GetGuid());
    }

    /// <summary>Starts <c>run</c> in the background; dispose to stop it.</summary>
    public static RunningAgent Start(string dataDir, params string[] extraArguments) => new(dataDir, extraArguments);

    public static async Task WaitForStatusAsync(GatewayHost host, Guid clusterId, Guid memberId, string status)
    {
        using var client = host.Client(host.AdminToken);
        await Causeway.Testing.Poll.UntilAsync(async () =>
        {
            var cluster = await client.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{clusterId}");
            return cluster.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("id").GetGuid() == memberId && m.GetProperty("status").GetString() == status);
        }, TimeSpan.FromSeconds(20), $"member {memberId} to be {status}");
    }

    /// <summary>Creates a data source in the cluster and binds it to the tenant's default environment; returns the Data API URL.</summary>
    public static async Task<string> BindAsync(GatewayHost host, Guid clusterId, object dataSource)
    {
        using var client = host.Client(host.AdminToken);
        var created = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources", dataSource);
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var environment = (await client.GetFromJsonAsync<JsonElement>("/api/v1/environments")).EnumerateArray()
            .First(e => e.GetProperty("name").GetString() == "default").GetProperty("id").GetGuid();
        var bound = await client.PostAsJsonAsync($"/api/v1/gateways/{clusterId}/datasources/{id}/bindings", new { environment });
        Assert.True(bound.IsSuccessStatusCode, await bound.Content.ReadAsStringAsync());
        return (await bound.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dataApiUrl").GetString()!;
    }

    public static object Chinook(string name = "chinook") => new
    {
        name,
        type = "sqlite",
        connection = new { path = Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_Sqlite.sqlite") },
        credentials = new { username = "", password = "" },
    };
}

/// <summary>An agent's <c>run</c> in this process.</summary>
internal sealed class RunningAgent : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _output = new();

    public RunningAgent(string dataDir, params string[] extraArguments)
    {
        var output = TextWriter.Synchronized(_output);
        Run = Task.Run(() => AgentApp.RunAsync(["run", "--data-dir", dataDir, "--recovery-key", GatewayHost.RecoveryKey, .. extraArguments], output, output, _stop.Token));
    }

    public Task<int> Run { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Stops the agent (idempotent) and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await Run.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
