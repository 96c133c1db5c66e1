using System.Text.Json;

namespace Causeway.Agents;

/// <summary>An agent's data folder: only its owner may enter it (0700), and the status file is replaced whole.</summary>
public static class AgentFolder
{
    /// <summary>The options every agent file is written with.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Creates the folder when missing and makes it private to the current user.</summary>
    public static void CreatePrivate(string directory)
    {
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Writes a JSON file through a temporary file, so a reader never sees half of it.</summary>
    public static void WriteWhole<T>(string path, T value)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(value, Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a JSON file written by <see cref="WriteWhole{T}"/>, or null when there is none.</summary>
    public static T? ReadOrDefault<T>(string path) where T : class =>
        File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) : null;
}
