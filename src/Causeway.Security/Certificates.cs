using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Causeway.Security;

/// <summary>Creates and loads the server's TLS certificate.</summary>
public static class CertificateFactory
{
    /// <summary>
    /// Creates a self-signed certificate for localhost and 127.0.0.1 (and ::1), valid for <paramref name="years"/> years,
    /// usable for TLS server authentication. The returned certificate carries its private key.
    /// </summary>
    public static X509Certificate2 CreateSelfSigned(string commonName = "localhost", int years = 2, IEnumerable<string>? extraDnsNames = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        foreach (var name in extraDnsNames ?? [])
        {
            san.AddDnsName(name);
        }

        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(years));

        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        var pfx = created.Export(X509ContentType.Pfx);
        return X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.Exportable);
    }

    /// <summary>The certificate's public part as PEM.</summary>
    public static string ToPem(X509Certificate2 certificate) => certificate.ExportCertificatePem();

    /// <summary>
    /// Loads a certificate with its private key: a PKCS#12 file (.pfx/.p12, optional password) or a PEM certificate
    /// with a PEM key file.
    /// </summary>
    /// <exception cref="CryptographicException">The file is not a certificate with a usable private key.</exception>
    public static X509Certificate2 Load(string path, string? password, string? keyPath)
    {
        X509Certificate2 certificate;
        if (keyPath is not null)
        {
            certificate = X509Certificate2.CreateFromPemFile(path, keyPath);
            // Ephemeral PEM keys are not usable by SslStream on some platforms; re-import as PKCS#12.
            certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
        }
        else
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new CryptographicException($"The certificate in '{path}' has no private key.");
        }

        return certificate;
    }
}

/// <summary>
/// Trusts the system's certificate store plus, optionally, certificates the user named (<c>--trust-certificate PATH</c>).
/// A named certificate is trusted as a root: either the server presents it itself, or it is the anchor of the chain.
/// There is deliberately no way to switch validation off.
/// </summary>
public sealed class CertificateTrust
{
    private readonly X509Certificate2Collection _trusted;

    private CertificateTrust(X509Certificate2Collection trusted) => _trusted = trusted;

    /// <summary>Only the system store.</summary>
    public static CertificateTrust SystemOnly { get; } = new([]);

    /// <summary>The system store plus the certificates in the PEM or DER file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="CryptographicException">The file holds no certificate.</exception>
    public static CertificateTrust FromFile(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return SystemOnly;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The certificate to trust, '{path}', does not exist.", path);
        }

        var collection = new X509Certificate2Collection();
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            collection.ImportFromPem(text);
        }
        else
        {
            collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        }

        if (collection.Count == 0)
        {
            throw new CryptographicException($"'{path}' holds no certificate.");
        }

        return new CertificateTrust(collection);
    }

    /// <summary>The validation callback for <see cref="SslClientAuthenticationOptions"/> and HTTP handlers. Thread-safe.</summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || _trusted.Count == 0 || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(presented);
    }

    /// <summary>A handler for <see cref="HttpClient"/> with TLS 1.2/1.3 and this trust.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        handler.SslOptions.EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) => Validate(cert, chain, errors);
        return handler;
    }
}
