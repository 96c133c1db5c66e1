namespace Causeway.Connectors;

/// <summary>
/// A connector package is invalid. The message names the file and the JSON path of the fault, for example
/// <c>apiDefinition.swagger.json: $.paths['/x'].get.parameters[2]: 'in' must be one of query, header, path, formData, body</c>.
/// Messages never carry connection values.
/// </summary>
public sealed class ConnectorImportException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConnectorImportException(string file, string jsonPath, string problem)
        : base($"{file}: {jsonPath}: {problem}")
    {
        File = file;
        JsonPath = jsonPath;
        Problem = problem;
    }

    /// <summary>Creates the exception with the parse error that caused it.</summary>
    public ConnectorImportException(string file, string jsonPath, string problem, Exception inner)
        : base($"{file}: {jsonPath}: {problem}", inner)
    {
        File = file;
        JsonPath = jsonPath;
        Problem = problem;
    }

    /// <summary>Required by CA1032.</summary>
    public ConnectorImportException()
        : this("package", "$", "invalid package")
    {
    }

    /// <summary>Required by CA1032.</summary>
    public ConnectorImportException(string message)
        : this("package", "$", message)
    {
    }

    /// <summary>Required by CA1032.</summary>
    public ConnectorImportException(string message, Exception innerException)
        : this("package", "$", message, innerException)
    {
    }

    /// <summary>The package file at fault: apiDefinition.swagger.json, apiProperties.json, script.csx or the zip.</summary>
    public string File { get; }

    /// <summary>JSON path of the fault inside <see cref="File"/> (<c>$</c> for the whole file).</summary>
    public string JsonPath { get; }

    /// <summary>What is wrong, without the file and path.</summary>
    public string Problem { get; }
}
