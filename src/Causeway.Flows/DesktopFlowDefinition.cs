using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Causeway.Flows;

/// <summary>A declared input or output variable of a desktop flow.</summary>
/// <param name="Name">The variable's name (letters, digits and underscores; not starting with a digit).</param>
/// <param name="Type">The variable's type.</param>
/// <param name="Required">For inputs: whether a run must supply a value (inputs with a default never need one).</param>
/// <param name="Default">For inputs: the value used when a run supplies none.</param>
public sealed record VariableDeclaration(string Name, VariableType Type, bool Required, JsonElement? Default);

/// <summary>One problem found in a definition or in the inputs of a run.</summary>
/// <param name="Path">JSON path of the offending value, for example <c>$.actions[2].timeoutSeconds</c>.</param>
/// <param name="Position">Line and column of that value in the submitted text, when known.</param>
/// <param name="Message">What is wrong and, where it helps, what would be accepted.</param>
public sealed record DesktopFlowError(string Path, JsonPosition? Position, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Position is { } p ? $"{Path} (line {p.Line}, column {p.Column}): {Message}" : $"{Path}: {Message}";
}

/// <summary>Thrown when a definition or a run's inputs are invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class DesktopFlowValidationException(IReadOnlyList<DesktopFlowError> errors)
    : Exception("invalid desktop flow: " + string.Join("; ", errors.Take(5)) + (errors.Count > 5 ? $" (and {errors.Count - 5} more)" : ""))
{
    /// <summary>Every problem found (at least one).</summary>
    public IReadOnlyList<DesktopFlowError> Errors { get; } = errors;
}

/// <summary>
/// A validated desktop flow definition (schema version 1, see docs/desktop-flows.md). Immutable and thread-safe: one
/// definition can be run many times, at the same time.
/// </summary>
public sealed class DesktopFlowDefinition
{
    /// <summary>The only schema version this library reads.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The largest definition accepted (1 MB of UTF-8).</summary>
    public const int MaxDefinitionBytes = 1024 * 1024;

    /// <summary>The largest inputs document accepted for a run (2 MB of UTF-8, as Power Automate).</summary>
    public const int MaxInputBytes = 2 * 1024 * 1024;

    private DesktopFlowDefinition(string json, JsonElement root, string name, IReadOnlyList<VariableDeclaration> inputs, IReadOnlyList<VariableDeclaration> outputs)
    {
        Json = json;
        Root = root;
        Name = name;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The definition as it was submitted.</summary>
    public string Json { get; }

    /// <summary>The flow's name.</summary>
    public string Name { get; }

    /// <summary>The declared inputs.</summary>
    public IReadOnlyList<VariableDeclaration> Inputs { get; }

    /// <summary>The declared outputs.</summary>
    public IReadOnlyList<VariableDeclaration> Outputs { get; }

    internal JsonElement Root { get; }

    internal JsonElement Actions => Root.GetProperty("actions");

    /// <summary>Parses and validates a definition.</summary>
    /// <exception cref="DesktopFlowValidationException">The text is not JSON or does not follow schema version 1; every error found is listed.</exception>
    public static DesktopFlowDefinition Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var errors = Validate(json, out var definition);
        return errors.Count == 0 ? definition! : throw new DesktopFlowValidationException(errors);
    }

    /// <summary>Validates a definition without throwing; an empty list means it is valid.</summary>
    public static IReadOnlyList<DesktopFlowError> Validate(string json) => Validate(json, out _);

    /// <summary>
    /// Checks the inputs of a run as <see cref="DesktopFlowRunner.RunAsync"/> will, without running anything: a queue can
    /// refuse bad inputs up front instead of failing the run on the machine later.
    /// </summary>
    /// <exception cref="DesktopFlowValidationException">The inputs are invalid; every problem found is listed.</exception>
    public void CheckInputs(string? inputsJson) => _ = BindInputs(inputsJson);

    /// <summary>
    /// Checks the inputs of a run (a JSON object, at most <see cref="MaxInputBytes"/>) against the declared inputs and
    /// returns the variables the run starts with. Unknown names, missing required inputs and wrong types are errors.
    /// </summary>
    /// <exception cref="DesktopFlowValidationException">The inputs are invalid.</exception>
    internal Dictionary<string, object?> BindInputs(string? inputsJson)
    {
        var errors = new List<DesktopFlowError>();
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        JsonElement? supplied = null;
        if (!string.IsNullOrWhiteSpace(inputsJson))
        {
            if (Encoding.UTF8.GetByteCount(inputsJson) > MaxInputBytes)
            {
                throw new DesktopFlowValidationException([new("$", null, $"inputs are larger than {MaxInputBytes} bytes")]);
            }

            try
            {
                using var document = JsonDocument.Parse(inputsJson);
                supplied = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DesktopFlowValidationException([new("$", e.LineNumber is { } l ? new((int)l + 1, (int)(e.BytePositionInLine ?? 0) + 1) : null, "inputs are not JSON: " + e.Message)]);
            }

            if (supplied.Value.ValueKind != JsonValueKind.Object)
            {
                throw new DesktopFlowValidationException([new("$", null, "inputs must be a JSON object of name -> value")]);
            }

            foreach (var property in supplied.Value.EnumerateObject())
            {
                var declared = Inputs.FirstOrDefault(i => i.Name == property.Name);
                var path = JsonPositions.Property("$", property.Name);
                if (declared is null)
                {
                    errors.Add(new(path, null, $"'{property.Name}' is not an input of this flow"));
                }
                else if (!FlowValues.IsJson(declared.Type, property.Value.ValueKind))
                {
                    errors.Add(new(path, null, $"'{property.Name}' must be a {declared.Type.ToString().ToLowerInvariant()}"));
                }
                else
                {
                    values[property.Name] = ToRunValue(declared.Type, property.Value);
                }
            }
        }

        foreach (var input in Inputs.Where(i => !values.ContainsKey(i.Name)))
        {
            if (input.Default is { } fallback)
            {
                values[input.Name] = ToRunValue(input.Type, fallback);
            }
            else if (input.Required)
            {
                errors.Add(new(JsonPositions.Property("$", input.Name), null, $"the required input '{input.Name}' is missing"));
            }
            else
            {
                values[input.Name] = null;
            }
        }

        return errors.Count == 0 ? values : throw new DesktopFlowValidationException(errors);
    }

    private static object? ToRunValue(VariableType type, JsonElement value) =>
        type == VariableType.Secret ? new SecretString(value.GetString()!) : FlowValues.FromJson(value);

    private static List<DesktopFlowError> Validate(string json, out DesktopFlowDefinition? definition)
    {
        definition = null;
        var bytes = Encoding.UTF8.GetBytes(json);
        if (bytes.Length > MaxDefinitionBytes)
        {
            return [new("$", null, $"the definition is larger than {MaxDefinitionBytes} bytes")];
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            var position = e.LineNumber is { } line ? new JsonPosition((int)line + 1, (int)(e.BytePositionInLine ?? 0) + 1) : (JsonPosition?)null;
            return [new(e.Path ?? "$", position, "not valid JSON: " + e.Message.Split(" Path:", 2)[0])];
        }

        var validator = new Validator(JsonPositions.Map(bytes));
        var (name, inputs, outputs) = validator.ValidateRoot(root);
        if (validator.Errors.Count == 0)
        {
            definition = new DesktopFlowDefinition(json, root, name!, inputs, outputs);
        }

        return validator.Errors;
    }

    private sealed class Validator(JsonPositions positions)
    {
        private static readonly HashSet<string> RootProperties = ["schemaVersion", "name", "description", "inputs", "outputs", "actions"];
        private static readonly HashSet<string> VariableProperties = ["name", "type", "required", "default", "description"];
        private static readonly HashSet<string> CommonActionProperties = ["id", "type", "description"];
        private readonly HashSet<string> _actionIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
        private readonly List<(string Path, VariablePath Reference)> _references = [];

        public List<DesktopFlowError> Errors { get; } = [];

        public (string? Name, List<VariableDeclaration> Inputs, List<VariableDeclaration> Outputs) ValidateRoot(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Error("$", "a desktop flow definition is a JSON object");
                return (null, [], []);
            }

            Unknown(root, "$", RootProperties);
            if (!root.TryGetProperty("schemaVersion", out var version))
            {
                Error("$", "'schemaVersion' is required (this version of Causeway reads schemaVersion 1)");
            }
            else if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != CurrentSchemaVersion)
            {
                Error("$.schemaVersion", $"unsupported schemaVersion {version.GetRawText()}: this version of Causeway reads schemaVersion 1");
            }

            string? name = null;
            if (!root.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(name = nameElement.GetString()) || name.Length > 200)
            {
                Error(root.TryGetProperty("name", out _) ? "$.name" : "$", "'name' is required: a non-empty string of at most 200 characters");
            }

            OptionalString(root, "$", "description");
            var inputs = Variables(root, "inputs", isInput: true);
            var outputs = Variables(root, "outputs", isInput: false);
            if (!root.TryGetProperty("actions", out var actions))
            {
                Error("$", "'actions' is required (a list of actions, possibly empty)");
            }
            else
            {
                ActionList(actions, "$.actions");
            }

            foreach (var (path, reference) in _references.Where(r => !_declared.Contains(r.Reference.Root)))
            {
                Error(path, $"'{reference.Root}' is not a variable of this flow (declare it as an input or output, or set it with an action)");
            }

            return (name, inputs, outputs);
        }

        private List<VariableDeclaration> Variables(JsonElement root, string property, bool isInput)
        {
            var result = new List<VariableDeclaration>();
            if (!root.TryGetProperty(property, out var list))
            {
                return result;
            }

            var listPath = "$." + property;
            if (list.ValueKind != JsonValueKind.Array)
            {
                Error(listPath, $"'{property}' must be a list of variables");
                return result;
            }

            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var path = JsonPositions.Index(listPath, index++);
                if (item.ValueKind != JsonValueKind.Object)
                {
                    Error(path, "a variable is an object {\"name\", \"type\"}");
                    continue;
                }

                Unknown(item, path, isInput ? VariableProperties : ["name", "type", "description"]);
                OptionalString(item, path, "description");
                var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
                if (name is null || !VariablePath.IsName(name))
                {
                    Error(name is null ? path : path + ".name", "'name' must be letters, digits or '_' (at most 64, not starting with a digit)");
                    continue;
                }

                if (result.Any(r => r.Name == name) || (!isInput && _declared.Contains(name)))
                {
                    Error(path + ".name", $"'{name}' is declared twice");
                    continue;
                }

                var typeText = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                VariableType? type = typeText switch
                {
                    "string" => VariableType.String,
                    "number" => VariableType.Number,
                    "boolean" => VariableType.Boolean,
                    "list" => VariableType.List,
                    "object" => VariableType.Object,
                    "secret" => VariableType.Secret,
                    _ => null,
                };
                if (type is null)
                {
                    Error(item.TryGetProperty("type", out _) ? path + ".type" : path, "'type' must be one of string, number, boolean, list, object, secret");
                    continue;
                }

                var required = false;
                if (item.TryGetProperty("required", out var r))
                {
                    if (r.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        Error(path + ".required", "'required' must be true or false");
                    }
                    else
                    {
                        required = r.GetBoolean();
                    }
                }

                JsonElement? fallback = null;
                if (item.TryGetProperty("default", out var d))
                {
                    if (type == VariableType.Secret)
                    {
                        Error(path + ".default", "a secret input cannot have a default (it would be stored in the definition)");
                    }
                    else if (!FlowValues.IsJson(type.Value, d.ValueKind))
                    {
                        Error(path + ".default", $"the default must be a {type.Value.ToString().ToLowerInvariant()}");
                    }
                    else
                    {
                        fallback = d.Clone();
                    }
                }

                _declared.Add(name);
                result.Add(new VariableDeclaration(name, type.Value, required, fallback));
            }

            return result;
        }

        private void ActionList(JsonElement actions, string path)
        {
            if (actions.ValueKind != JsonValueKind.Array)
            {
                Error(path, "must be a list of actions");
                return;
            }

            var index = 0;
            foreach (var action in actions.EnumerateArray())
            {
                Action(action, JsonPositions.Index(path, index++));
            }
        }

        private void Action(JsonElement action, string path)
        {
            if (action.ValueKind != JsonValueKind.Object)
            {
                Error(path, "an action is an object {\"id\", \"type\", ...}");
                return;
            }

            if (!action.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !Regex.IsMatch(id.GetString()!, "^[A-Za-z0-9_.-]{1,64}$"))
            {
                Error(action.TryGetProperty("id", out _) ? path + ".id" : path, "'id' is required: 1-64 letters, digits, '_', '-' or '.'");
            }
            else if (!_actionIds.Add(id.GetString()!))
            {
                Error(path + ".id", $"the action id '{id.GetString()}' is used twice (ids are unique in a flow)");
            }

            OptionalString(action, path, "description");
            if (!action.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                Error(path, "'type' is required");
                return;
            }

            if (!ActionCatalog.Actions.TryGetValue(typeElement.GetString()!, out var spec))
            {
                Error(path + ".type", $"unknown action type '{typeElement.GetString()}' (known: {string.Join(", ", ActionCatalog.Actions.Keys)})");
                return;
            }

            foreach (var property in action.EnumerateObject())
            {
                if (!CommonActionProperties.Contains(property.Name) && spec.Parameters.All(p => p.Name != property.Name))
                {
                    Error(JsonPositions.Property(path, property.Name), $"'{spec.Type}' has no parameter '{property.Name}' (it takes {string.Join(", ", spec.Parameters.Select(p => p.Name))})");
                }
            }

            foreach (var parameter in spec.Parameters)
            {
                var parameterPath = JsonPositions.Property(path, parameter.Name);
                if (!action.TryGetProperty(parameter.Name, out var value))
                {
                    if (parameter.Required)
                    {
                        Error(path, $"'{spec.Type}' needs '{parameter.Name}'");
                    }

                    continue;
                }

                Parameter(parameter, value, parameterPath);
            }
        }

        private void Parameter(ParameterSpec parameter, JsonElement value, string path)
        {
            switch (parameter.Kind)
            {
                case ParameterKind.Text:
                case ParameterKind.Pattern:
                    if (TemplateAt(value, path) is { } template && parameter.Kind == ParameterKind.Pattern && !template.HasReferences)
                    {
                        try
                        {
                            _ = new Regex(value.GetString()!, RegexOptions.None, TimeSpan.FromSeconds(1));
                        }
                        catch (ArgumentException e)
                        {
                            Error(path, "not a valid regular expression: " + e.Message);
                        }
                    }

                    break;
                case ParameterKind.Literal:
                    if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
                    {
                        Error(path, "must be a non-empty string");
                    }

                    break;
                case ParameterKind.Number:
                    if (value.ValueKind == JsonValueKind.Number)
                    {
                        var number = value.GetDouble();
                        if (number < parameter.Min || number > parameter.Max)
                        {
                            Error(path, $"must be between {parameter.Min} and {parameter.Max}");
                        }
                    }
                    else
                    {
                        SingleReference(value, path, "a number");
                    }

                    break;
                case ParameterKind.Boolean:
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        SingleReference(value, path, "true or false");
                    }

                    break;
                case ParameterKind.Value:
                    ValueTemplates(value, path);
                    break;
                case ParameterKind.Condition:
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        Error(path, "a condition is a string such as \"count > 3 and name != ''\"");
                        break;
                    }

                    try
                    {
                        foreach (var reference in Expression.Parse(value.GetString()!).References())
                        {
                            _references.Add((path, reference));
                        }
                    }
                    catch (FormatException e)
                    {
                        Error(path, "invalid condition: " + e.Message);
                    }

                    break;
                case ParameterKind.VariableName:
                    if (value.ValueKind != JsonValueKind.String || !VariablePath.IsName(value.GetString()!))
                    {
                        Error(path, "must be a variable name (letters, digits or '_', not starting with a digit)");
                    }
                    else
                    {
                        _declared.Add(value.GetString()!);
                    }

                    break;
                case ParameterKind.Actions:
                    ActionList(value, path);
                    break;
                case ParameterKind.TextList:
                    if (value.ValueKind == JsonValueKind.Array)
                    {
                        var index = 0;
                        foreach (var item in value.EnumerateArray())
                        {
                            TemplateAt(item, JsonPositions.Index(path, index++));
                        }
                    }
                    else
                    {
                        SingleReference(value, path, "a list of strings");
                    }

                    break;
                case ParameterKind.TextMap:
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        Error(path, "must be an object of name -> string");
                        break;
                    }

                    foreach (var property in value.EnumerateObject())
                    {
                        TemplateAt(property.Value, JsonPositions.Property(path, property.Name));
                    }

                    break;
            }
        }

        private Template? TemplateAt(JsonElement value, string path)
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                Error(path, "must be a string");
                return null;
            }

            try
            {
                var template = Template.Parse(value.GetString()!);
                foreach (var reference in template.References())
                {
                    _references.Add((path, reference));
                }

                return template;
            }
            catch (FormatException e)
            {
                Error(path, e.Message);
                return null;
            }
        }

        private void SingleReference(JsonElement value, string path, string expected)
        {
            var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
            if (text.Length < 3 || text[0] != '%' || text[^1] != '%' || text.IndexOf('%', 1) != text.Length - 1
                || VariablePath.TryParse(text[1..^1], out _) is not { } reference)
            {
                Error(path, $"must be {expected} or one '%variable%' reference");
                return;
            }

            _references.Add((path, reference));
        }

        private void ValueTemplates(JsonElement value, string path)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    TemplateAt(value, path);
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        ValueTemplates(item, JsonPositions.Index(path, index++));
                    }

                    break;
                case JsonValueKind.Object:
                    foreach (var property in value.EnumerateObject())
                    {
                        ValueTemplates(property.Value, JsonPositions.Property(path, property.Name));
                    }

                    break;
            }
        }

        private void OptionalString(JsonElement element, string path, string property)
        {
            if (element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.String)
            {
                Error(JsonPositions.Property(path, property), $"'{property}' must be a string");
            }
        }

        private void Unknown(JsonElement element, string path, IReadOnlySet<string> known)
        {
            foreach (var property in element.EnumerateObject().Where(p => !known.Contains(p.Name)))
            {
                Error(JsonPositions.Property(path, property.Name), $"unknown property '{property.Name}' (known: {string.Join(", ", known)})");
            }
        }

        private void Error(string path, string message) => Errors.Add(new DesktopFlowError(path, positions.Find(path), message));
    }
}
