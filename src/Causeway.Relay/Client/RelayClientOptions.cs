using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Causeway.Relay.Client;

/// <summary>Settings shared by <see cref="HybridConnectionListener"/> and <see cref="HybridConnectionClient"/>.</summary>
public sealed class RelayClientOptions
{
    /// <summary>
    /// Extra server-certificate check, e.g. <see cref="TrustCertificate"/> for a relay with a self-signed certificate.
    /// Null means the platform's normal validation. There is deliberately no switch that accepts every certificate.
    /// </summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; set; }

    /// <summary>WebSocket ping interval (Microsoft's clients ping every 3.5 minutes; lower keeps NATs open).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Listener reconnect back-off; the last delay repeats. Azure's clients use 0, 1, 2, 5, 10, 30 s.</summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; set; } =
        [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    /// <summary>Lifetime of the SAS tokens the client signs; the listener renews at half of it.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest HTTP request body the listener accepts (it is buffered before the handler runs).</summary>
    public int MaxRequestBodySize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Clock for back-off and token renewal (tests use a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// A validation callback that accepts exactly <paramref name="certificate"/> (compared by SHA-256 of its DER bytes),
    /// and otherwise only certificates the platform already trusts.
    /// </summary>
    public static RemoteCertificateValidationCallback TrustCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var pinned = SHA256.HashData(certificate.RawData);
        return (_, presented, _, errors) =>
            errors == SslPolicyErrors.None ||
            (presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented.GetRawCertData()), pinned));
    }
}

/// <summary>A relay refused a connection or request; <see cref="StatusCode"/> says why (401, 403, 404, 502, ...).</summary>
public sealed class RelayException : Exception
{
    public RelayException()
    {
    }

    public RelayException(string message)
        : base(message)
    {
    }

    public RelayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RelayException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status the relay answered with, when it answered.</summary>
    public int? StatusCode { get; }
}
