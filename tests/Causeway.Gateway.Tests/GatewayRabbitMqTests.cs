using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Testing;

namespace Causeway.Gateway.Tests;

/// <summary>The server with <c>Gateway:Bus = rabbitmq</c> and a real agent consuming its cluster's queue as the cluster's own broker user.</summary>
[Collection("rabbitmq")]
public sealed class GatewayRabbitMqTests(RabbitMqServer broker) : IAsyncLifetime
{
    private readonly TempFolder _folder = new("causeway-agent-rabbitmq");
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync(new Dictionary<string, string?>
    {
        ["Gateway:Bus"] = "rabbitmq",
        ["Gateway:RabbitMq:Uri"] = broker.AdminUri.ToString(),
    });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Query_ThroughTheClustersQueue_AgentWithItsClusterUserAnswers_AlsoAfterTheBrokerRestarts()
    {
        var dir = _folder.Combine("a");
        var (cluster, member) = await Agents.RegisterAsync(_host, dir, "hq");
        var (configure, write, read) = GatewayQueues.MemberPermissions(cluster);
        var password = Guid.NewGuid().ToString("N");
        await broker.AddUserAsync(GatewayQueues.MemberUser(cluster), password, configure, write, read);
        var uriFile = _folder.Combine("broker-uri");
        await File.WriteAllTextAsync(uriFile, broker.UriFor(GatewayQueues.MemberUser(cluster), password).ToString());
        await using var agent = Agents.Start(dir, "--rabbitmq-uri-file", uriFile);
        await Agents.WaitForStatusAsync(_host, cluster, member, "online");
        await Poll.UntilAsync(() => agent.Output.Contains("Consuming the queue", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the agent to consume its cluster's queue");
        var url = await Agents.BindAsync(_host, cluster, Agents.Chinook());
        using var client = _host.Client(_host.AdminToken);

        var response = await client.GetAsync(url + "Artist?$orderby=ArtistId&$top=3&$select=Name");
        var queues = await broker.CtlAsync("list_queues", "name", "consumers", "--no-table-headers", "--quiet");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["AC/DC", "Accept", "Aerosmith"], (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").EnumerateArray().Select(v => v.GetProperty("Name").GetString()));
        Assert.Contains(queues.Split('\n'), line => line.StartsWith(GatewayQueues.ClusterQueue(cluster), StringComparison.Ordinal) && line.TrimEnd().EndsWith("\t1", StringComparison.Ordinal));
        Assert.DoesNotContain(password, agent.Output, StringComparison.Ordinal);

        // The broker restarts: meanwhile a clear 503 naming the cluster, then the server and the agent recover by themselves.
        await broker.StopAsync();
        try
        {
            var down = await client.GetAsync(url + "Artist?$top=1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Contains("'hq'", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await broker.StartAsync();
        }

        await Poll.UntilAsync(async () => (await client.GetAsync(url + "Artist?$top=1")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60),
            "a query through the gateway to succeed after the broker restarted");
    }

    [Fact]
    public async Task Run_WithoutBrokerUri_SaysWhatToGiveAndStaysConnected()
    {
        var dir = _folder.Combine("b");
        var (cluster, member) = await Agents.RegisterAsync(_host, dir, "no-broker");
        await using var agent = Agents.Start(dir);

        await Agents.WaitForStatusAsync(_host, cluster, member, "online");
        await Poll.UntilAsync(() => agent.Output.Contains("--rabbitmq-uri-file", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the agent to say it needs the broker URI");
    }
}
