using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Gateway.Agent;

/// <summary>
/// <c>register</c>: creates a cluster (new key pair, public key and recovery-key-protected escrow uploaded) or, with a
/// cluster id, joins one (the escrow is fetched and opened with the recovery key before anything changes). Local files
/// are written only after the server accepted the member, and never over an existing registration.
/// </summary>
internal static class Registrar
{
    public static string Version => typeof(Registrar).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static async Task<AgentRegistration> RegisterAsync(string server, string token, string name, string region, string recoveryKey, Guid? clusterId,
        AgentFiles files, string? trustCertificate, int iterations, CancellationToken cancellationToken)
    {
        if (KeyFile.CheckRecoveryKey(recoveryKey) is { } problem)
        {
            throw new AgentException(problem);
        }

        if (files.IsRegistered)
        {
            throw new AgentException($"{files.Directory} already holds a registration; use another --data-dir for another member.");
        }

        var baseUri = AgentServer.RequireHttps(server);

        var trust = AgentServer.LoadTrust(trustCertificate);
        using var http = AgentServer.CreateClient(baseUri, trust, token);
        RSA key;
        Guid cluster, member;
        string credential, clusterName, geography;
        if (clusterId is { } joining)
        {
            var escrow = await AgentServer.SendAsync(http, HttpMethod.Get, $"/api/v1/gateways/{joining}/escrow", null, cancellationToken);
            try
            {
                key = KeyFile.Unprotect(escrow.GetProperty("escrowedKey").GetString()!, recoveryKey);
            }
            catch (GatewayCryptoException e)
            {
                throw new AgentException($"The recovery key does not open the key of gateway cluster {joining}: {e.Message} Nothing was changed.", e);
            }

            if (!GatewayEnvelope.IsPairOf(key, escrow.GetProperty("publicKey").GetString()!))
            {
                throw new AgentException($"The escrowed key of gateway cluster {joining} does not match its public key; nothing was changed.");
            }

            geography = escrow.GetProperty("geography").GetString()!;
            if (!string.Equals(geography, region, StringComparison.OrdinalIgnoreCase))
            {
                throw new AgentException($"Gateway cluster {joining} serves region '{geography}', not '{region}'; every member of a cluster serves the cluster's region.");
            }

            clusterName = escrow.GetProperty("name").GetString()!;
            var added = await AgentServer.SendAsync(http, HttpMethod.Post, $"/api/v1/gateways/{joining}/members", new { name, version = Version }, cancellationToken);
            cluster = joining;
            member = added.GetProperty("id").GetGuid();
            credential = added.GetProperty("credential").GetString()!;
        }
        else
        {
            key = GatewayEnvelope.CreateKey();
            var created = await AgentServer.SendAsync(http, HttpMethod.Post, "/api/v1/gateways", new
            {
                name,
                geography = region,
                publicKey = GatewayEnvelope.ExportPublicKey(key),
                escrowedKey = KeyFile.Protect(key, recoveryKey, iterations),
                member = new { name, version = Version },
            }, cancellationToken);
            cluster = created.GetProperty("cluster").GetProperty("id").GetGuid();
            clusterName = created.GetProperty("cluster").GetProperty("name").GetString()!;
            geography = created.GetProperty("cluster").GetProperty("geography").GetString()!;
            member = created.GetProperty("member").GetProperty("id").GetGuid();
            credential = created.GetProperty("member").GetProperty("credential").GetString()!;
        }

        using (key)
        {
            var registration = new AgentRegistration(baseUri.GetLeftPart(UriPartial.Authority) + "/", cluster, clusterName, member, name, geography,
                trustCertificate is null ? null : Path.GetFullPath(trustCertificate));
            files.Write(registration, KeyFile.Protect(key, recoveryKey, iterations), credential);
            return registration;
        }
    }
}
