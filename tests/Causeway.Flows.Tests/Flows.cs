using System.Text.Json.Nodes;
using Causeway.Testing;

namespace Causeway.Flows.Tests;

/// <summary>Builds small flows and runs them inside a temporary root.</summary>
internal static class Flows
{
    /// <summary>A definition with the given inputs, outputs and actions (each a JSON fragment).</summary>
    public static string Definition(string actions, string inputs = "[]", string outputs = "[]") =>
        $$"""
        {
          "schemaVersion": 1,
          "name": "test",
          "inputs": {{inputs}},
          "outputs": {{outputs}},
          "actions": [{{actions}}]
        }
        """;

    public static DesktopFlowRunner Runner(TempFolder? root = null, Action<DesktopFlowRunnerOptions>? configure = null)
    {
        var options = new DesktopFlowRunnerOptions();
        if (root is not null)
        {
            options.Roots.Add(root.Path);
        }

        configure?.Invoke(options);
        return new DesktopFlowRunner(options);
    }

    public static Task<DesktopFlowRunResult> RunAsync(string actions, TempFolder? root = null, string outputs = "[]", string inputs = "[]", string? inputValues = null,
        Action<DesktopFlowRunnerOptions>? configure = null, CancellationToken cancellationToken = default) =>
        Runner(root, configure).RunAsync(DesktopFlowDefinition.Parse(Definition(actions, inputs, outputs)), inputValues, cancellationToken);

    /// <summary>Runs and asserts success, returning the outputs.</summary>
    public static async Task<JsonObject> SucceedAsync(string actions, TempFolder? root = null, string outputs = "[]", string inputs = "[]", string? inputValues = null,
        Action<DesktopFlowRunnerOptions>? configure = null)
    {
        var result = await RunAsync(actions, root, outputs, inputs, inputValues, configure);
        Assert.True(result.Status == DesktopFlowRunStatus.Succeeded, $"expected success, got {result.Status}: {result.Error}");
        return result.Outputs;
    }

    public static string Out(string name, string type = "string") => $$"""[{"name": "{{name}}", "type": "{{type}}"}]""";

    public static string Escape(string path) => path.Replace("\\", "\\\\", StringComparison.Ordinal);
}
