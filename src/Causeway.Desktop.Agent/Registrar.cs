using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Desktop.Agent;

/// <summary>
/// <c>register</c>: creates this machine's key pair and registers its public key with one environment. With a group, the
/// first member creates the group's key pair and uploads the private key only under the group password; later members
/// fetch that escrow and open it here, so neither the group password nor a private key ever reaches the server. Local
/// files are written only after the server accepted the machine, and never over an existing registration.
/// </summary>
internal static class Registrar
{
    public static string Version => typeof(Registrar).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static async Task<AgentRegistration> RegisterAsync(string server, string token, string environment, string name, string? group, string? groupPassword,
        AgentFiles files, string? trustCertificate, IReadOnlyList<string> roots, int iterations, CancellationToken cancellationToken)
    {
        if (files.IsRegistered)
        {
            throw new AgentException($"{files.Directory} already holds a registration; a machine registers with one environment (use another --data-dir for another).");
        }

        if ((group is null) != (groupPassword is null))
        {
            throw new AgentException("--group and --group-password go together.");
        }

        if (groupPassword is not null && KeyFile.CheckRecoveryKey(groupPassword) is not null)
        {
            throw new AgentException("The group password must have at least 8 characters.");
        }

        var baseUri = AgentServer.RequireHttps(server);

        var fullRoots = CheckRoots(roots);
        var trust = AgentServer.LoadTrust(trustCertificate);
        using var http = AgentServer.CreateClient(baseUri, trust, token);

        var environments = await AgentServer.SendAsync(http, HttpMethod.Get, "/api/v1/environments", null, cancellationToken);
        var match = environments.EnumerateArray().FirstOrDefault(e => e.GetProperty("id").GetString() == environment || e.GetProperty("name").GetString() == environment);
        if (match.ValueKind != JsonValueKind.Object)
        {
            throw new AgentException($"No environment '{environment}' is visible with this token.");
        }

        var environmentId = match.GetProperty("id").GetGuid();
        var environmentName = match.GetProperty("name").GetString()!;
        using var machineKey = GatewayEnvelope.CreateKey();
        RSA? groupKey = null;
        try
        {
            string? groupPublicKey = null, groupEscrow = null;
            Guid? groupId = null;
            string? groupName = null;
            if (group is not null)
            {
                var escrow = await AgentServer.SendAsync(http, HttpMethod.Get, $"/api/v1/environments/{environmentId}/machinegroups/{Uri.EscapeDataString(group)}/escrow", null, cancellationToken);
                groupId = escrow.GetProperty("id").GetGuid();
                groupName = escrow.GetProperty("name").GetString();
                if (escrow.TryGetProperty("publicKey", out var published) && published.GetString() is { } existing)
                {
                    try
                    {
                        groupKey = KeyFile.Unprotect(escrow.GetProperty("escrowedKey").GetString()!, groupPassword!);
                    }
                    catch (GatewayCryptoException e)
                    {
                        throw new AgentException($"The group password does not open the key of machine group '{groupName}'; nothing was changed.", e);
                    }

                    if (!GatewayEnvelope.IsPairOf(groupKey, existing))
                    {
                        throw new AgentException($"The escrowed key of machine group '{groupName}' does not match its public key; nothing was changed.");
                    }
                }
                else
                {
                    groupKey = GatewayEnvelope.CreateKey();
                    groupPublicKey = GatewayEnvelope.ExportPublicKey(groupKey);
                    groupEscrow = KeyFile.Protect(groupKey, groupPassword!, iterations);
                }
            }

            var created = await AgentServer.SendAsync(http, HttpMethod.Post, $"/api/v1/environments/{environmentId}/machines", new
            {
                name,
                publicKey = GatewayEnvelope.ExportPublicKey(machineKey),
                group = groupId?.ToString(),
                groupPublicKey,
                groupEscrowedKey = groupEscrow,
            }, cancellationToken);
            var listen = created.GetProperty("listen");
            var registration = new AgentRegistration(baseUri.GetLeftPart(UriPartial.Authority) + "/", environmentId, environmentName,
                created.GetProperty("machine").GetProperty("id").GetGuid(), name, groupId, groupName, listen.GetProperty("endpoint").GetString()!,
                listen.GetProperty("path").GetString()!, listen.GetProperty("keyName").GetString()!, trustCertificate is null ? null : Path.GetFullPath(trustCertificate), fullRoots);
            files.Write(registration, machineKey, groupKey, listen.GetProperty("key").GetString()!);
            return registration;
        }
        finally
        {
            groupKey?.Dispose();
        }
    }

    public static List<string> CheckRoots(IEnumerable<string> roots)
    {
        var list = new List<string>();
        foreach (var root in roots)
        {
            var full = Path.GetFullPath(root);
            if (!Directory.Exists(full))
            {
                throw new AgentException($"The root folder {full} does not exist.");
            }

            list.Add(full);
        }

        return list;
    }
}
