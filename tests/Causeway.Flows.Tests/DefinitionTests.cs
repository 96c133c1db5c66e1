namespace Causeway.Flows.Tests;

public class DefinitionTests
{
    [Fact]
    public void Parse_ValidDefinition_ReadsNameInputsAndOutputs()
    {
        var definition = DesktopFlowDefinition.Parse(Flows.Definition(
            """{"id": "a1", "type": "text.upper", "text": "%name%", "result": "shout"}""",
            inputs: """[{"name": "name", "type": "string", "required": true}, {"name": "password", "type": "secret"}, {"name": "n", "type": "number", "default": 3}]""",
            outputs: Flows.Out("shout")));

        Assert.Equal("test", definition.Name);
        Assert.Equal(["name", "password", "n"], definition.Inputs.Select(i => i.Name));
        Assert.Equal([VariableType.String, VariableType.Secret, VariableType.Number], definition.Inputs.Select(i => i.Type));
        Assert.True(definition.Inputs[0].Required);
        Assert.Equal(3, definition.Inputs[2].Default!.Value.GetDouble());
        Assert.Equal("shout", Assert.Single(definition.Outputs).Name);
    }

    [Fact]
    public void Parse_MalformedJson_ReportsLineAndColumn()
    {
        var error = Assert.Single(Assert.Throws<DesktopFlowValidationException>(() => DesktopFlowDefinition.Parse("{\n  \"schemaVersion\": 1,\n  \"name\": \"x\" \"actions\": []\n}")).Errors);

        Assert.Equal(3, error.Position!.Value.Line);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownActionType_ReportsJsonPathLineAndColumn()
    {
        var json = "{\n  \"schemaVersion\": 1,\n  \"name\": \"x\",\n  \"actions\": [\n    {\"id\": \"a\", \"type\": \"text.trim\", \"text\": \"x\"},\n    {\"id\": \"b\", \"type\": \"launch.rocket\"}\n  ]\n}";

        var error = Assert.Single(DesktopFlowDefinition.Validate(json));

        Assert.Equal("$.actions[1].type", error.Path);
        Assert.Equal(new JsonPosition(6, 25), error.Position);
        Assert.Contains("launch.rocket", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name": "x", "actions": []}""", "$", "schemaVersion")]
    [InlineData("""{"schemaVersion": 2, "name": "x", "actions": []}""", "$.schemaVersion", "unsupported")]
    [InlineData("""{"schemaVersion": 1, "actions": []}""", "$", "'name' is required")]
    [InlineData("""{"schemaVersion": 1, "name": "x"}""", "$", "'actions' is required")]
    [InlineData("""{"schemaVersion": 1, "name": "x", "actions": [], "extra": 1}""", "$.extra", "unknown property")]
    [InlineData("""[1]""", "$", "JSON object")]
    public void Validate_BadTopLevel_Rejected(string json, string path, string message)
    {
        var error = Assert.Single(DesktopFlowDefinition.Validate(json));

        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"id": "a", "type": "file.read"}""", "$.actions[0]", "needs 'path'")]
    [InlineData("""{"id": "a", "type": "file.read", "path": "x", "colour": "red"}""", "$.actions[0].colour", "no parameter 'colour'")]
    [InlineData("""{"id": "a b", "type": "text.trim", "text": "x"}""", "$.actions[0].id", "'id' is required")]
    [InlineData("""{"type": "text.trim", "text": "x"}""", "$.actions[0]", "'id' is required")]
    [InlineData("""{"id": "a", "type": "text.trim", "text": 5}""", "$.actions[0].text", "must be a string")]
    [InlineData("""{"id": "a", "type": "text.trim", "text": "50%"}""", "$.actions[0].text", "not closed")]
    [InlineData("""{"id": "a", "type": "text.trim", "text": "%nobody%"}""", "$.actions[0].text", "'nobody' is not a variable")]
    [InlineData("""{"id": "a", "type": "wait", "seconds": 7200}""", "$.actions[0].seconds", "between 0 and 3600")]
    [InlineData("""{"id": "a", "type": "wait", "seconds": "soon"}""", "$.actions[0].seconds", "a number or one '%variable%' reference")]
    [InlineData("""{"id": "a", "type": "regex.match", "text": "x", "pattern": "(unclosed"}""", "$.actions[0].pattern", "not a valid regular expression")]
    [InlineData("""{"id": "a", "type": "if", "condition": "1 >", "then": []}""", "$.actions[0].condition", "invalid condition")]
    [InlineData("""{"id": "a", "type": "if", "condition": "x == 1", "then": []}""", "$.actions[0].condition", "'x' is not a variable")]
    [InlineData("""{"id": "a", "type": "variable.set", "name": "1x", "value": 1}""", "$.actions[0].name", "variable name")]
    [InlineData("""{"id": "a", "type": "sqlite.query", "database": "d.db", "sql": ""}""", "$.actions[0].sql", "non-empty")]
    [InlineData("""{"id": "a", "type": "if", "condition": "true", "then": [{"id": "b", "type": "nope"}]}""", "$.actions[0].then[0].type", "unknown action type")]
    [InlineData("""{"id": "a", "type": "forEach", "items": [], "as": "x", "actions": {}}""", "$.actions[0].actions", "list of actions")]
    public void Validate_BadAction_RejectedWithPath(string action, string path, string message)
    {
        var errors = DesktopFlowDefinition.Validate(Flows.Definition(action));

        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal) && e.Position is not null);
    }

    [Fact]
    public void Validate_DuplicateActionIds_Rejected()
    {
        var errors = DesktopFlowDefinition.Validate(Flows.Definition(
            """{"id": "a", "type": "text.trim", "text": "x"}, {"id": "b", "type": "if", "condition": "true", "then": [{"id": "a", "type": "text.trim", "text": "y"}]}"""));

        Assert.Equal("$.actions[1].then[0].id", Assert.Single(errors).Path);
    }

    [Theory]
    [InlineData("""[{"name": "p", "type": "secret", "default": "hunter2"}]""", "$.inputs[0].default", "secret")]
    [InlineData("""[{"name": "n", "type": "number", "default": "three"}]""", "$.inputs[0].default", "must be a number")]
    [InlineData("""[{"name": "n", "type": "integer"}]""", "$.inputs[0].type", "one of string")]
    [InlineData("""[{"name": "n", "type": "string"}, {"name": "n", "type": "string"}]""", "$.inputs[1].name", "declared twice")]
    public void Validate_BadInputs_Rejected(string inputs, string path, string message)
    {
        var error = Assert.Single(DesktopFlowDefinition.Validate(Flows.Definition("", inputs)));

        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_VariableSetByAnyAction_CountsAsDeclared()
    {
        var errors = DesktopFlowDefinition.Validate(Flows.Definition(
            """{"id": "a", "type": "text.upper", "text": "%row.name%", "result": "upper"}, {"id": "b", "type": "forEach", "items": [1], "as": "row", "actions": []}"""));

        Assert.Empty(errors);
    }

    [Fact]
    public void Validate_SeveralProblems_ListsEveryOne()
    {
        var errors = DesktopFlowDefinition.Validate(Flows.Definition(
            """{"id": "a", "type": "wait"}, {"id": "b", "type": "text.trim"}, {"id": "c", "type": "file.read", "path": 1}"""));

        Assert.Equal(3, errors.Count);
    }
}
