using System.Globalization;
using System.Text.Json;

namespace Causeway.Flows;

/// <summary>Reads an action's parameters at run time, filling in placeholders from the run's variables.</summary>
internal sealed class ActionArguments(JsonElement action, RunContext context)
{
    public RunContext Context => context;

    public JsonElement? Raw(string name) => action.TryGetProperty(name, out var value) ? value : null;

    /// <summary>A parameter taken as written (validated at save time).</summary>
    public string Literal(string name) => action.GetProperty(name).GetString()!;

    public string Text(string name) => TextOrNull(name) ?? throw new FlowActionException($"'{name}' is required");

    public string? TextOrNull(string name) => Raw(name) is { } value ? Template.Parse(value.GetString()!).EvaluateText(context.Variables) : null;

    public double Number(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        var value = Raw(name) is { } raw ? Evaluate(raw) : fallback;
        return value is double d && d >= min && d <= max
            ? d
            : throw new FlowActionException($"'{name}' must be a number between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, not {Describe(value)}");
    }

    public bool Boolean(string name, bool fallback)
    {
        var value = Raw(name) is { } raw ? Evaluate(raw) : fallback;
        return value is bool b ? b : throw new FlowActionException($"'{name}' must be true or false, not {Describe(value)}");
    }

    public object? Value(string name) => Raw(name) is { } raw ? Evaluate(raw) : null;

    public List<string>? TextList(string name)
    {
        if (Raw(name) is not { } raw)
        {
            return null;
        }

        if (raw.ValueKind == JsonValueKind.Array)
        {
            var variables = context.Variables;
            return [.. raw.EnumerateArray().Select(item => Template.Parse(item.GetString()!).EvaluateText(variables))];
        }

        return Evaluate(raw) is List<object?> list
            ? [.. list.Select(FlowValues.ToText)]
            : throw new FlowActionException($"'{name}' must be a list");
    }

    public Dictionary<string, string> TextMap(string name)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (Raw(name) is { } raw)
        {
            foreach (var property in raw.EnumerateObject())
            {
                result[property.Name] = Template.Parse(property.Value.GetString()!).EvaluateText(context.Variables);
            }
        }

        return result;
    }

    public void SetResult(object? value)
    {
        if (Raw("result") is { } name)
        {
            context.Variables[name.GetString()!] = value;
        }
    }

    /// <summary>A path parameter, resolved and checked against the machine's roots.</summary>
    public string Path(string name) => context.ResolvePath(Text(name));

    private object? Evaluate(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => Template.Parse(value.GetString()!).Evaluate(context.Variables),
        JsonValueKind.Array => value.EnumerateArray().Select(Evaluate).ToList(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => Evaluate(p.Value), StringComparer.Ordinal),
        _ => FlowValues.FromJson(value),
    };

    private static string Describe(object? value) => value is SecretString ? "a secret" : $"the {FlowValues.TypeName(value)} '{FlowValues.ToText(value)}'";
}

/// <content>Folder roots: the only places file actions may touch.</content>
internal sealed partial class RunContext
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    public bool IsRoot(string fullPath) => roots.Any(r => string.Equals(r, Path.TrimEndingDirectorySeparator(fullPath), PathComparison));

    /// <summary>
    /// The full path of <paramref name="path"/> (relative paths start at the first root), refused unless it lies in a
    /// root — and so do the targets of any symbolic links on the way from the root to it.
    /// </summary>
    public string ResolvePath(string path)
    {
        if (roots.Count == 0)
        {
            throw new FlowActionException("this machine allows no folders (no roots are configured), so file actions are refused");
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            throw new FlowActionException("the path is empty");
        }

        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(roots[0], path));
        if (!InRoots(full))
        {
            throw new FlowActionException($"'{path}' is outside the folders this machine allows ({string.Join(", ", roots)})");
        }

        for (var current = full; current is not null && !IsRoot(current); current = Path.GetDirectoryName(current))
        {
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !InRoots(target.FullName))
                {
                    throw new FlowActionException($"'{path}' goes through a link that leads outside the folders this machine allows");
                }
            }
        }

        return full;
    }

    private bool InRoots(string full) => roots.Any(root =>
        string.Equals(full.TrimEnd(Path.DirectorySeparatorChar), root, PathComparison)
        || full.StartsWith(root + Path.DirectorySeparatorChar, PathComparison)
        || (root.EndsWith(Path.DirectorySeparatorChar) && full.StartsWith(root, PathComparison)));
}
