using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Causeway.Server.Tests;

public sealed class HostTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FirstStart_WritesOwnerOnlyAdminTokenAndPublicCertificate()
    {
        await using var host = await ServerHost.StartAsync();

        var token = Path.Combine(host.DataDirectory, "admin-token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token));
        Assert.StartsWith("cwt_", host.AdminToken, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(Path.Combine(host.DataDirectory, "certificate.pem")), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(host.DataDirectory, "certificate.pfx")));
    }

    [Fact]
    public async Task Health_LiveAndReady_Answer200WithoutToken()
    {
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal("ready", (await client.GetFromJsonAsync<JsonElement>("/health/ready")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_Document_DescribesEnvironmentsApi()
    {
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(null);

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/environments", out var environments));
        Assert.True(environments.TryGetProperty("post", out _));
    }

    [Fact]
    public async Task Tls_Version11Client_IsRefusedAnd12Accepted()
    {
        await using var host = await ServerHost.StartAsync();
        var trust = Causeway.Security.CertificateTrust.FromFile(Path.Combine(host.DataDirectory, "certificate.pem"));

        async Task<bool> HandshakeAsync(SslProtocols protocols)
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", host.BaseAddress.Port);
            using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, c, ch, e) => trust.Validate(c, ch, e));
            try
            {
#pragma warning disable SYSLIB0039 // the point is to offer an obsolete protocol and see it refused
                await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = protocols });
#pragma warning restore SYSLIB0039
                return true;
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                return false;
            }
        }

        Assert.True(await HandshakeAsync(SslProtocols.Tls12));
#pragma warning disable SYSLIB0039
        Assert.False(await HandshakeAsync(SslProtocols.Tls11));
#pragma warning restore SYSLIB0039
    }

    [Fact]
    public async Task Certificate_UserProvidedPem_IsServedAndPublished()
    {
        using var folder = new Causeway.Testing.TempFolder("causeway-cert");
        using var own = Causeway.Security.CertificateFactory.CreateSelfSigned("causeway-test-own");
        File.WriteAllText(folder.Combine("own.pem"), own.ExportCertificatePem());
        using (var key = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPrivateKey(own)!)
        {
            File.WriteAllText(folder.Combine("own.key"), key.ExportPkcs8PrivateKeyPem());
        }

        await using var host = await ServerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Server:CertificatePath"] = folder.Combine("own.pem"),
            ["Server:CertificateKeyPath"] = folder.Combine("own.key"),
        });
        using var client = host.Client(null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(own.ExportCertificatePem(), File.ReadAllText(Path.Combine(host.DataDirectory, "certificate.pem")));
        Assert.False(File.Exists(Path.Combine(host.DataDirectory, "certificate.pfx")));
    }

    [Theory]
    [InlineData("Server:Port", "70000", "Server:Port (--port) must be between 0 and 65535")]
    [InlineData("Topology:Geographies:0", "atlantis", "Topology:Geographies:0 is 'atlantis', which is not a known geography")]
    [InlineData("Database:Provider", "oracle", "Database:Provider must be 'sqlite' or 'postgresql'")]
    [InlineData("EnvironmentDatabases:Provider", "postgresql", "EnvironmentDatabases:Server is required")]
    [InlineData("Server:ListenAddress", "somewhere", "Server:ListenAddress must be")]
    [InlineData("Gateway:Bus", "carrier-pigeon", "Gateway:Bus must be 'websocket' or 'rabbitmq'")]
    [InlineData("DesktopFlows:QueueTimeout", "07:00:00", "DesktopFlows:QueueTimeout must be more than zero and at most 06:00:00")]
    [InlineData("DesktopFlows:PollInterval", "not a time", "DesktopFlows: ")]
    [InlineData("ApiManagement:MaxRequestBodyBytes", "0", "ApiManagement:MaxRequestBodyBytes must be at least 1")]
    public void ReadSettings_BadSetting_NamesIt(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();

        var e = Assert.Throws<StartupException>(() => CausewayServer.ReadSettings(configuration));

        Assert.Contains(e.Problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_UnknownArgument_ExitsWith2AndSaysWhich()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await CausewayServer.RunAsync(["--prot", "1"], output, error);

        Assert.Equal(2, code);
        Assert.Contains("unknown argument '--prot'", error.ToString(), StringComparison.Ordinal);
    }
}
