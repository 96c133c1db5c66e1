using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Desktop.Agent;

/// <summary>What <c>register</c> writes to <c>agent.json</c> (no secret: the keys have files of their own).</summary>
internal sealed record AgentRegistration(
    string Server,
    Guid EnvironmentId,
    string EnvironmentName,
    Guid MachineId,
    string MachineName,
    Guid? GroupId,
    string? GroupName,
    string RelayEndpoint,
    string HybridConnection,
    string ListenKeyName,
    string? TrustCertificate,
    IReadOnlyList<string> Roots);

/// <summary>What <c>run</c> reports for <c>status</c>.</summary>
internal sealed record AgentStatus(
    bool Connected,
    string RelayEndpoint,
    int ProcessId,
    string Version,
    DateTimeOffset Since,
    DateTimeOffset UpdatedAt,
    Guid? CurrentRun,
    int Reconnects,
    string? LastError);

/// <summary>
/// The agent's data folder: <c>agent.json</c> (registration), <c>machine.key</c> (this machine's private key, PEM),
/// <c>group.key</c> (the group's private key, when the machine is in a group), <c>listen-key</c> (the Listen-only SAS key
/// of its hybrid connection) and <c>status.json</c>. The folder is 0700 and every key file 0600.
/// </summary>
internal sealed class AgentFiles(string directory)
{
    public static JsonSerializerOptions Json => AgentFolder.Json;

    public string Directory { get; } = Path.GetFullPath(directory);

    public string RegistrationPath => Path.Combine(Directory, "agent.json");

    public string MachineKeyPath => Path.Combine(Directory, "machine.key");

    public string GroupKeyPath => Path.Combine(Directory, "group.key");

    public string ListenKeyPath => Path.Combine(Directory, "listen-key");

    public string StatusPath => Path.Combine(Directory, "status.json");

    public static string DefaultDirectory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".causeway-desktop");

    public bool IsRegistered => File.Exists(RegistrationPath);

    public AgentRegistration ReadRegistration() => IsRegistered
        ? JsonSerializer.Deserialize<AgentRegistration>(File.ReadAllText(RegistrationPath), Json)!
        : throw new AgentException($"No machine is registered in {Directory}; run 'causeway-desktop register' first.");

    public string ReadListenKey() => File.ReadAllText(ListenKeyPath).Trim();

    public RSA ReadMachineKey() => ReadKey(MachineKeyPath);

    public RSA? ReadGroupKey() => File.Exists(GroupKeyPath) ? ReadKey(GroupKeyPath) : null;

    public void Write(AgentRegistration registration, RSA machineKey, RSA? groupKey, string listenKey)
    {
        AgentFolder.CreatePrivate(Directory);

        KeyFile.Save(MachineKeyPath, machineKey.ExportPkcs8PrivateKeyPem());
        if (groupKey is not null)
        {
            KeyFile.Save(GroupKeyPath, groupKey.ExportPkcs8PrivateKeyPem());
        }

        KeyFile.Save(ListenKeyPath, listenKey + "\n");
        File.WriteAllText(RegistrationPath, JsonSerializer.Serialize(registration, Json));
    }

    public void WriteStatus(AgentStatus status) => AgentFolder.WriteWhole(StatusPath, status);

    public AgentStatus? ReadStatus() => AgentFolder.ReadOrDefault<AgentStatus>(StatusPath);

    private static RSA ReadKey(string path)
    {
        var key = RSA.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new AgentException($"The key file {path} is damaged; register the machine again.", e);
        }
    }
}
