using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Causeway.Connectors;

/// <summary>
/// Reads a Power Platform connector package (<c>apiDefinition.swagger.json</c> + <c>apiProperties.json</c>
/// [+ <c>script.csx</c>]) into a <see cref="ConnectorDefinition"/>. Pure and thread-safe; every method throws
/// <see cref="ConnectorImportException"/> naming the file and JSON path when the package is invalid.
/// </summary>
public static class ConnectorPackageReader
{
    /// <summary>The OpenAPI 2.0 definition file name.</summary>
    public const string ApiDefinitionFile = "apiDefinition.swagger.json";
    /// <summary>The connection parameters and policies file name.</summary>
    public const string ApiPropertiesFile = "apiProperties.json";
    /// <summary>The custom code file name.</summary>
    public const string ScriptFile = "script.csx";

    // Zips of a package are small; a bigger entry is refused rather than read into memory.
    private const long MaxEntryBytes = 32 * 1024 * 1024;

    /// <summary>Reads a package folder.</summary>
    public static ConnectorDefinition ReadFolder(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Directory.Exists(path))
        {
            throw new ConnectorImportException(Path.GetFileName(path), "$", "package folder does not exist");
        }

        var definition = ReadRequired(path, ApiDefinitionFile);
        var properties = ReadRequired(path, ApiPropertiesFile);
        var scriptPath = Path.Combine(path, ScriptFile);
        var script = File.Exists(scriptPath) ? File.ReadAllText(scriptPath) : null;
        return ReadText(definition, properties, script);
    }

    private static string ReadRequired(string folder, string file)
    {
        var full = Path.Combine(folder, file);
        if (!File.Exists(full))
        {
            throw new ConnectorImportException(file, "$", "file is missing from the package");
        }

        return File.ReadAllText(full);
    }

    /// <summary>
    /// Reads a zip holding one package, its files at the root or inside one folder. The stream is read, not disposed.
    /// </summary>
    public static ConnectorDefinition ReadZip(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ConnectorImportException("package.zip", "$", "not a valid zip archive", e);
        }

        using (archive)
        {
            string? Find(string name, bool required)
            {
                var matches = archive.Entries
                    .Where(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase) && e.FullName.Count(c => c == '/') <= 1)
                    .ToList();
                if (matches.Count == 0)
                {
                    return required ? throw new ConnectorImportException(name, "$", "file is missing from the zip") : null;
                }

                if (matches.Count > 1)
                {
                    throw new ConnectorImportException(name, "$", "the zip holds more than one package");
                }

                if (matches[0].Length > MaxEntryBytes)
                {
                    throw new ConnectorImportException(name, "$", $"file is larger than {MaxEntryBytes / (1024 * 1024)} MB");
                }

                // The declared length can lie (a zip bomb): stop reading once the limit is passed.
                using var reader = new StreamReader(matches[0].Open(), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
                var text = new StringBuilder();
                var buffer = new char[81920];
                int read;
                while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
                {
                    text.Append(buffer, 0, read);
                    if (text.Length > MaxEntryBytes)
                    {
                        throw new ConnectorImportException(name, "$", $"file is larger than {MaxEntryBytes / (1024 * 1024)} MB");
                    }
                }

                return text.ToString();
            }

            var definition = Find(ApiDefinitionFile, required: true)!;
            var properties = Find(ApiPropertiesFile, required: true)!;
            return ReadText(definition, properties, Find(ScriptFile, required: false));
        }
    }

    /// <summary>
    /// Reads the three parts as JSON values, the REST shape
    /// <c>{"apiDefinition": {...}, "apiProperties": {...}, "script": "..." | null}</c>.
    /// </summary>
    public static ConnectorDefinition ReadJson(JsonElement apiDefinition, JsonElement apiProperties, string? script)
    {
        if (apiDefinition.ValueKind != JsonValueKind.Object)
        {
            throw new ConnectorImportException(ApiDefinitionFile, "$", "must be a JSON object");
        }

        if (apiProperties.ValueKind != JsonValueKind.Object)
        {
            throw new ConnectorImportException(ApiPropertiesFile, "$", "must be a JSON object");
        }

        return ReadText(apiDefinition.GetRawText(), apiProperties.GetRawText(), script);
    }

    /// <summary>Reads the REST body <c>{"apiDefinition": ..., "apiProperties": ..., "script": ...}</c>.</summary>
    public static ConnectorDefinition ReadRequestBody(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ConnectorImportException("request", "$", "must be a JSON object with apiDefinition, apiProperties and script");
        }

        if (!body.TryGetProperty("apiDefinition", out var definition))
        {
            throw new ConnectorImportException("request", "$.apiDefinition", "is required");
        }

        if (!body.TryGetProperty("apiProperties", out var properties))
        {
            throw new ConnectorImportException("request", "$.apiProperties", "is required");
        }

        string? script = null;
        if (body.TryGetProperty("script", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            script = s.ValueKind == JsonValueKind.String
                ? s.GetString()
                : throw new ConnectorImportException("request", "$.script", "must be a string or null");
        }

        return ReadJson(definition, properties, script);
    }

    /// <summary>Reads the three parts as text (the file contents).</summary>
    public static ConnectorDefinition ReadText(string apiDefinition, string apiProperties, string? script)
    {
        ArgumentNullException.ThrowIfNull(apiDefinition);
        ArgumentNullException.ThrowIfNull(apiProperties);
        var warnings = new List<string>();
        var swagger = JsonText.ParseObject(apiDefinition, ApiDefinitionFile, warnings);
        var props = JsonText.ParseObject(apiProperties, ApiPropertiesFile, warnings);
        return new PackageParser(swagger, props, string.IsNullOrWhiteSpace(script) ? null : script, warnings).Parse();
    }
}
