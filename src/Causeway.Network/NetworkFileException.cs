namespace Causeway.Network;

/// <summary>Where a value sits in a network or inventory file (1-based line and column).</summary>
public sealed record SourcePosition(string File, int Line, int Column)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}({Line},{Column})";
}

/// <summary>
/// A network or inventory file (or an in-memory document) is not valid: malformed, not matching the schema, or referring
/// to something that does not exist. The message starts with the file position when one is known.
/// </summary>
public sealed class NetworkFileException : Exception
{
    /// <summary>Creates the exception; <paramref name="position"/> may be null for documents built in memory.</summary>
    public NetworkFileException(string message, SourcePosition? position, Exception? inner = null)
        : base(position is null ? message : $"{position}: {message}", inner)
    {
        Position = position;
        Reason = message;
    }

    /// <summary>Where the problem is, or null when the document was not read from a file.</summary>
    public SourcePosition? Position { get; }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }
}

/// <summary>Chooses the reader for a request body or a file without a telling extension.</summary>
public static class DocumentFormats
{
    /// <summary>JSON when the text starts with '{' (after white space), YAML otherwise.</summary>
    public static DocumentFormat Detect(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.AsSpan().TrimStart().StartsWith("{") ? DocumentFormat.Json : DocumentFormat.Yaml;
    }
}

/// <summary>The formats the planner reads.</summary>
public enum DocumentFormat
{
    /// <summary>YAML 1.1/1.2 (JSON is also accepted by this reader).</summary>
    Yaml,

    /// <summary>JSON (RFC 8259), comments allowed.</summary>
    Json,
}
