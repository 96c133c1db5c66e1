namespace Causeway.Flows.Tests;

public class ExpressionTests
{
    private static readonly Dictionary<string, object?> Variables = new(StringComparer.Ordinal)
    {
        ["count"] = 5.0,
        ["name"] = "Ada",
        ["flag"] = true,
        ["tags"] = new List<object?> { "red", 2.0 },
        ["row"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["id"] = 7.0, ["items"] = new List<object?> { "a", "b" } },
        ["nothing"] = null,
    };

    [Theory]
    [InlineData("count == 5", true)]
    [InlineData("count != 5", false)]
    [InlineData("count > 4 and count < 6", true)]
    [InlineData("count >= 6 or name == 'Ada'", true)]
    [InlineData("count <= 4", false)]
    [InlineData("not flag", false)]
    [InlineData("not (count > 1 and name == \"Bob\")", true)]
    [InlineData("%name% == 'Ada'", true)]
    [InlineData("name contains 'd'", true)]
    [InlineData("tags contains 'red'", true)]
    [InlineData("tags contains 2", true)]
    [InlineData("tags contains 'blue'", false)]
    [InlineData("row contains 'id'", true)]
    [InlineData("row.id == 7 and row.items[1] == 'b'", true)]
    [InlineData("nothing == null", true)]
    [InlineData("'b' > 'a'", true)]
    [InlineData("-1 < 0", true)]
    [InlineData("flag == true and false == false", true)]
    [InlineData("count > 1 or count > 2 and false", true)]
    public void Evaluate_Condition_GivesExpectedValue(string text, bool expected)
    {
        Assert.Equal(expected, Expression.Parse(text).Evaluate(Variables));
    }

    [Theory]
    [InlineData("count >")]
    [InlineData("(count > 1")]
    [InlineData("'open")]
    [InlineData("count > 1 extra")]
    [InlineData("and flag")]
    [InlineData("%name == 'x'")]
    public void Parse_Malformed_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => Expression.Parse(text));
    }

    [Theory]
    [InlineData("count < 'x'")]
    [InlineData("count and flag")]
    [InlineData("missing == 1")]
    [InlineData("row.nope == 1")]
    public void Evaluate_TypeMismatchOrMissingVariable_ThrowsFlowActionException(string text)
    {
        Assert.Throws<FlowActionException>(() => Expression.Parse(text).Evaluate(Variables));
    }

    [Fact]
    public void Template_SinglePlaceholder_KeepsTheValuesType()
    {
        Assert.IsType<List<object?>>(Template.Parse("%tags%").Evaluate(Variables));
        Assert.Equal("Ada has 5 (100%)", Template.Parse("%name% has %count% (100%%)").Evaluate(Variables));
        Assert.Equal("[\"red\",2]", Template.Parse("%tags%!").EvaluateText(Variables)[..^1]);
    }
}
