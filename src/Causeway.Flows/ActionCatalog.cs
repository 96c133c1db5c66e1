namespace Causeway.Flows;

/// <summary>How a parameter is written in a definition and read at run time.</summary>
internal enum ParameterKind
{
    /// <summary>A string; <c>%name%</c> placeholders are filled in at run time.</summary>
    Text,

    /// <summary>A string taken as written (SQL text: values travel only as parameters).</summary>
    Literal,

    /// <summary>A regular expression (a string; checked at save time unless it holds placeholders).</summary>
    Pattern,

    /// <summary>A number, or a string that is one placeholder of a number variable.</summary>
    Number,

    /// <summary>true/false, or a string that is one placeholder of a boolean variable.</summary>
    Boolean,

    /// <summary>Any JSON value; strings inside it are templates.</summary>
    Value,

    /// <summary>A condition (see <see cref="Expression"/>).</summary>
    Condition,

    /// <summary>The name of a variable the action writes.</summary>
    VariableName,

    /// <summary>A nested list of actions.</summary>
    Actions,

    /// <summary>An array of templates, or one placeholder of a list variable.</summary>
    TextList,

    /// <summary>An object whose values are templates (HTTP headers).</summary>
    TextMap,
}

internal sealed record ParameterSpec(string Name, ParameterKind Kind, bool Required = false, double Min = double.MinValue, double Max = double.MaxValue);

internal sealed record ActionSpec(string Type, IReadOnlyList<ParameterSpec> Parameters);

/// <summary>Every action type of schema version 1 and its parameters; docs/desktop-flows.md describes each one.</summary>
internal static class ActionCatalog
{
    public const double MaxWaitSeconds = 3600;
    public const double MaxProgramTimeoutSeconds = 24 * 3600;

    private static readonly ParameterSpec Result = new("result", ParameterKind.VariableName);

    public static readonly IReadOnlyDictionary<string, ActionSpec> Actions = new ActionSpec[]
    {
        new("program.run",
        [
            new("program", ParameterKind.Text, Required: true), new("arguments", ParameterKind.TextList),
            new("workingDirectory", ParameterKind.Text), new("timeoutSeconds", ParameterKind.Number, Min: 0.001, Max: MaxProgramTimeoutSeconds),
            new("failOnNonZeroExit", ParameterKind.Boolean), Result,
        ]),
        new("file.read", [new("path", ParameterKind.Text, Required: true), Result]),
        new("file.write", [new("path", ParameterKind.Text, Required: true), new("content", ParameterKind.Text, Required: true), new("append", ParameterKind.Boolean)]),
        new("file.copy", [new("source", ParameterKind.Text, Required: true), new("destination", ParameterKind.Text, Required: true), new("overwrite", ParameterKind.Boolean)]),
        new("file.move", [new("source", ParameterKind.Text, Required: true), new("destination", ParameterKind.Text, Required: true), new("overwrite", ParameterKind.Boolean)]),
        new("file.delete", [new("path", ParameterKind.Text, Required: true)]),
        new("folder.create", [new("path", ParameterKind.Text, Required: true)]),
        new("folder.list", [new("path", ParameterKind.Text, Required: true), new("pattern", ParameterKind.Text), Result]),
        new("folder.copy", [new("source", ParameterKind.Text, Required: true), new("destination", ParameterKind.Text, Required: true)]),
        new("folder.move", [new("source", ParameterKind.Text, Required: true), new("destination", ParameterKind.Text, Required: true)]),
        new("folder.delete", [new("path", ParameterKind.Text, Required: true), new("recursive", ParameterKind.Boolean)]),
        new("http.request",
        [
            new("method", ParameterKind.Text), new("url", ParameterKind.Text, Required: true), new("headers", ParameterKind.TextMap),
            new("body", ParameterKind.Text), new("timeoutSeconds", ParameterKind.Number, Min: 0.001, Max: 3600),
            new("failOnErrorStatus", ParameterKind.Boolean), Result,
        ]),
        new("text.replace", [new("text", ParameterKind.Text, Required: true), new("find", ParameterKind.Text, Required: true), new("replacement", ParameterKind.Text, Required: true), new("ignoreCase", ParameterKind.Boolean), Result]),
        new("text.split", [new("text", ParameterKind.Text, Required: true), new("separator", ParameterKind.Text, Required: true), new("removeEmpty", ParameterKind.Boolean), Result]),
        new("text.join", [new("items", ParameterKind.TextList, Required: true), new("separator", ParameterKind.Text), Result]),
        new("text.trim", [new("text", ParameterKind.Text, Required: true), Result]),
        new("text.upper", [new("text", ParameterKind.Text, Required: true), Result]),
        new("text.lower", [new("text", ParameterKind.Text, Required: true), Result]),
        new("regex.match", [new("text", ParameterKind.Text, Required: true), new("pattern", ParameterKind.Pattern, Required: true), new("ignoreCase", ParameterKind.Boolean), Result]),
        new("regex.replace", [new("text", ParameterKind.Text, Required: true), new("pattern", ParameterKind.Pattern, Required: true), new("replacement", ParameterKind.Text, Required: true), new("ignoreCase", ParameterKind.Boolean), Result]),
        new("variable.set", [new("name", ParameterKind.VariableName, Required: true), new("value", ParameterKind.Value, Required: true)]),
        new("if", [new("condition", ParameterKind.Condition, Required: true), new("then", ParameterKind.Actions, Required: true), new("else", ParameterKind.Actions)]),
        new("forEach", [new("items", ParameterKind.Value, Required: true), new("as", ParameterKind.VariableName, Required: true), new("actions", ParameterKind.Actions, Required: true)]),
        new("wait", [new("seconds", ParameterKind.Number, Required: true, Min: 0, Max: MaxWaitSeconds)]),
        new("sqlite.query", [new("database", ParameterKind.Text, Required: true), new("sql", ParameterKind.Literal, Required: true), new("parameters", ParameterKind.Value), Result]),
        new("csv.read", [new("path", ParameterKind.Text, Required: true), new("hasHeader", ParameterKind.Boolean), new("delimiter", ParameterKind.Text), Result]),
        new("csv.write", [new("path", ParameterKind.Text, Required: true), new("rows", ParameterKind.Value, Required: true), new("columns", ParameterKind.TextList), new("delimiter", ParameterKind.Text)]),
    }.ToDictionary(a => a.Type, StringComparer.Ordinal);
}
