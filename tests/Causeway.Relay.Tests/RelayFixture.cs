using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Causeway.Relay.Client;
using Causeway.Relay.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Causeway.Relay.Tests;

/// <summary>
/// One relay on real Kestrel with real TLS (a self-signed certificate made here) on 127.0.0.1 and a free port, with short
/// timeouts so fault tests finish quickly. Also installs Microsoft's Node clients when they are missing.
/// </summary>
public sealed class RelayFixture : IAsyncLifetime
{
    public static readonly TimeSpan RendezvousTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(3);
    public const long MaxMessageSize = 256 * 1024;
    public const int MaxListeners = 3;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "causeway-relay-tests-" + Guid.NewGuid().ToString("N"));
    private WebApplication? _app;

    public X509Certificate2 Certificate { get; private set; } = null!;

    public string CertificatePemPath { get; private set; } = "";

    public Uri BaseAddress { get; private set; } = null!;

    public int Port => BaseAddress.Port;

    public HttpClient Http { get; private set; } = null!;

    internal DataPlane.RelayHub Hub => _app!.Services.GetRequiredService<DataPlane.RelayHub>();

    public RelayClientOptions ClientOptions => new() { RemoteCertificateValidation = RelayClientOptions.TrustCertificate(Certificate) };

    public string NodeDirectory => Path.Combine(AppContext.BaseDirectory, "node");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        Certificate = CreateCertificate();
        CertificatePemPath = Path.Combine(_directory, "relay.pem");
        await File.WriteAllTextAsync(CertificatePemPath, Certificate.ExportCertificatePem());

        var installNode = Task.Run(InstallNodeClients);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(Certificate)));
        builder.Services.AddCausewayRelay(options =>
        {
            options.DatabasePath = Path.Combine(_directory, "relay.db");
            options.PublicHostName = "127.0.0.1";
            options.RendezvousTimeout = RendezvousTimeout;
            options.RequestTimeout = RequestTimeout;
            options.MaxMessageSize = MaxMessageSize;
            options.MaxListenersPerHybridConnection = MaxListeners;
            options.KeepAliveInterval = TimeSpan.FromSeconds(5);
        });
        _app = builder.Build();
        _app.MapRelayManagementApi();
        _app.MapRelay();
        await _app.StartAsync();

        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = RelayClientOptions.TrustCertificate(Certificate);
        Http = new HttpClient(handler) { BaseAddress = BaseAddress };

        await installNode;
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Certificate?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Creates a hybrid connection with a unique path (and optional extra rules) through the management API.</summary>
    public async Task<HybridConnectionResponse> CreateHybridConnectionAsync(
        string prefix, bool requiresClientAuthorization = true, params CreateAuthorizationRuleRequest[] rules)
    {
        var path = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
        using var response = await Http.PostAsJsonAsync(
            "/api/v1/relay/hybridconnections",
            new CreateHybridConnectionRequest(path, requiresClientAuthorization, AuthorizationRules: rules));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<HybridConnectionResponse>())!;
    }

    public async Task<int> ListenerCountAsync(string path)
    {
        var hybridConnection = await Http.GetFromJsonAsync<HybridConnectionResponse>($"/api/v1/relay/hybridconnections/{path}");
        return hybridConnection!.ListenerCount;
    }

    /// <summary>Waits until <paramref name="path"/> has <paramref name="count"/> listeners.</summary>
    public Task WaitForListenersAsync(string path, int count) =>
        Wait.UntilAsync(async () => await ListenerCountAsync(path) == count, $"{count} listener(s) on '{path}'");

    /// <summary>Starts a Node script with the relay's address, the hybrid connection and a key in its environment.</summary>
    public NodeProcess StartNode(string script, string path, string keyName, string key) =>
        NodeProcess.Start(NodeDirectory, script, new Dictionary<string, string>
        {
            ["RELAY_HOST"] = "127.0.0.1",
            ["RELAY_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["HC_PATH"] = path,
            ["KEY_NAME"] = keyName,
            ["KEY"] = key,
            ["NODE_EXTRA_CA_CERTS"] = CertificatePemPath,
        });

    private void InstallNodeClients()
    {
        var script = Path.Combine(NodeDirectory, "install.sh");
        using var process = Process.Start(new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed (npm registry reachable?): {stderr.Result}");
        }
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}

[CollectionDefinition(Name)]
public sealed class RelayCollection : ICollectionFixture<RelayFixture>
{
    public const string Name = "relay";
}
