using Causeway.Environments;
using Causeway.Platform;
using Causeway.Topology;

namespace Causeway.Server;

/// <summary>Configuration section <c>Server</c>.</summary>
public sealed class ServerOptions
{
    /// <summary>HTTPS port (<c>--port</c>); 0 picks a free one (the ready line says which).</summary>
    public int Port { get; set; } = 5443;

    /// <summary>HTTPS port of the relay (the Hybrid Connections data plane); 0 picks a free one.</summary>
    public int RelayPort { get; set; } = 5671;

    /// <summary>Address to listen on: <c>localhost</c> (default, loopback only), <c>any</c>, or an IP address.</summary>
    public string ListenAddress { get; set; } = "localhost";

    /// <summary>A PKCS#12 file, or a PEM certificate with <see cref="CertificateKeyPath"/>; none: a self-signed one in the data directory.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of the PKCS#12 file, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The PEM private key that goes with a PEM <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>Largest request body accepted by the control-plane API, in bytes.</summary>
    public long MaxApiBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Configuration section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    /// <summary>OTLP endpoint (for example <c>http://127.0.0.1:4317</c>); empty: no exporter.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>Configuration section <c>Relay</c>: limits and the public name of the relay.</summary>
public sealed class RelaySettings
{
    /// <summary>Host name announced in <c>sb://host:port/</c>, connection strings and rendezvous addresses.</summary>
    public string PublicHostName { get; set; } = "localhost";

    /// <summary>Listeners per hybrid connection.</summary>
    public int MaxListenersPerHybridConnection { get; set; } = 25;

    /// <summary>Seconds a listener has to accept a rendezvous.</summary>
    public int RendezvousTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds an HTTP-mode request waits for its answer (then 504).</summary>
    public int RequestTimeoutSeconds { get; set; } = 60;

    /// <summary>Largest relayed message, in bytes.</summary>
    public long MaxMessageSize { get; set; } = 16L * 1024 * 1024;

    /// <summary>Copies the settings onto the relay's options.</summary>
    public void CopyTo(Causeway.Relay.RelayOptions options)
    {
        options.PublicHostName = PublicHostName;
        options.MaxListenersPerHybridConnection = MaxListenersPerHybridConnection;
        options.RendezvousTimeout = TimeSpan.FromSeconds(RendezvousTimeoutSeconds);
        options.RequestTimeout = TimeSpan.FromSeconds(RequestTimeoutSeconds);
        options.MaxMessageSize = MaxMessageSize;
    }
}

/// <summary>Configuration section <c>Topology</c>.</summary>
public sealed class TopologyOptions
{
    /// <summary>Geography ids the deployment serves; empty: the default eight.</summary>
    public List<string> Geographies { get; set; } = [];

    /// <summary>Scale groups per datacenter id; datacenters left out get one canary, one sandbox and two production groups.</summary>
    public Dictionary<string, List<ScaleGroupSettings>> ScaleGroups { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Capacity of each default scale group, in environments.</summary>
    public int DefaultCapacity { get; set; } = DeploymentTopology.DefaultCapacity;
}

/// <summary>Every setting of the server, bound and validated once at start-up.</summary>
public sealed record ServerSettings(
    ServerOptions Server,
    PlatformOptions Platform,
    TopologyOptions TopologyOptions,
    DeploymentTopology Topology,
    EnvironmentDatabaseOptions EnvironmentDatabases,
    TelemetryOptions Telemetry,
    RelaySettings Relay);
