using System.Text.Json;
using Causeway.Security;

namespace Causeway.Gateway.Agent;

/// <summary>What <c>register</c> writes to the data folder (besides the key file and the credential).</summary>
internal sealed record AgentRegistration(string Server, Guid ClusterId, string ClusterName, Guid MemberId, string MemberName, string Region, string? TrustCertificate);

/// <summary>What <c>run</c> reports for <c>status</c>.</summary>
internal sealed record AgentStatus(bool Connected, string Server, int ProcessId, DateTimeOffset Since, DateTimeOffset? LastHeartbeat, double HeartbeatSeconds, string? LastError);

/// <summary>
/// The agent's data folder: <c>agent.json</c> (registration), <c>gateway.key</c> (the cluster's private key under the
/// recovery key), <c>member-credential</c> (how this member authenticates) and <c>status.json</c>. Secrets are 0600.
/// </summary>
internal sealed class AgentFiles(string directory)
{
    public static JsonSerializerOptions Json => AgentFolder.Json;

    public string Directory { get; } = Path.GetFullPath(directory);

    public string RegistrationPath => Path.Combine(Directory, "agent.json");

    public string KeyPath => Path.Combine(Directory, "gateway.key");

    public string CredentialPath => Path.Combine(Directory, "member-credential");

    public string StatusPath => Path.Combine(Directory, "status.json");

    public static string DefaultDirectory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".causeway-gateway");

    public bool IsRegistered => File.Exists(RegistrationPath);

    public AgentRegistration ReadRegistration() => IsRegistered
        ? JsonSerializer.Deserialize<AgentRegistration>(File.ReadAllText(RegistrationPath), Json)!
        : throw new AgentException($"No gateway is registered in {Directory}; run 'causeway-gateway register' first.");

    public string ReadCredential() => File.ReadAllText(CredentialPath).Trim();

    public string ReadKeyFile() => File.ReadAllText(KeyPath);

    public void Write(AgentRegistration registration, string keyFile, string credential)
    {
        AgentFolder.CreatePrivate(Directory);

        KeyFile.Save(KeyPath, keyFile);
        KeyFile.Save(CredentialPath, credential + "\n");
        File.WriteAllText(RegistrationPath, JsonSerializer.Serialize(registration, Json));
    }

    public void WriteStatus(AgentStatus status) => AgentFolder.WriteWhole(StatusPath, status);

    public AgentStatus? ReadStatus() => AgentFolder.ReadOrDefault<AgentStatus>(StatusPath);
}
