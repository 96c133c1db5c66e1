namespace Causeway.Testing;

/// <summary>
/// A fresh directory under the system temp folder, deleted (with its contents) on dispose.
/// </summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates the directory; <paramref name="prefix"/> makes leftovers recognizable.</summary>
    public TempFolder(string prefix = "causeway-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>Absolute path of the directory.</summary>
    public string Path { get; }

    /// <summary>Path of a file or folder inside this directory (not created).</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A process that still holds a file must not turn a passing test into a failure.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
