using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Causeway.Relay.Client;

namespace Causeway.Server.Tests;

public sealed class RelayHostingTests
{
    [Fact]
    public async Task Relay_HybridConnectionFromManagementApi_RelaysBytesOnItsOwnPort()
    {
        await using var host = await ServerHost.StartAsync();
        using var admin = host.Client(host.AdminToken);
        var created = await admin.PostAsJsonAsync("/api/v1/relay/hybridconnections", new { path = "echo", requiresClientAuthorization = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"sb://localhost:{host.RelayAddress.Port}/", body.GetProperty("endpoint").GetString());
        var rule = body.GetProperty("authorizationRules")[0];
        var key = rule.GetProperty("primaryKey").GetString()!;
        var keyName = rule.GetProperty("keyName").GetString()!;

        var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(host.DataDirectory, "certificate.pem"));
        var options = new RelayClientOptions { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(certificate) };
        await using var listener = new HybridConnectionListener(host.RelayAddress, "echo", keyName, key, options);
        await listener.OpenAsync(CancellationToken.None);
        using var client = new HybridConnectionClient(host.RelayAddress, "echo", keyName, key, options);

        var accept = listener.AcceptConnectionAsync(CancellationToken.None);
        using var sender = await client.CreateConnectionAsync(cancellationToken: CancellationToken.None);
        using var accepted = (await accept)!;
        await sender.SendAsync(Encoding.UTF8.GetBytes("over the relay"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64];
        var received = await accepted.ReceiveAsync(buffer, CancellationToken.None);

        Assert.Equal("over the relay", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    [Fact]
    public async Task RelayManagement_NonOperator_IsForbidden()
    {
        await using var host = await ServerHost.StartAsync();
        using var tenantAdmin = host.Client(await host.CreateTenantAsync("fabrikam"));

        var response = await tenantAdmin.PostAsJsonAsync("/api/v1/relay/hybridconnections", new { path = "echo" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
