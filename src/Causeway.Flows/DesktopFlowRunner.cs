using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Flows;

/// <summary>
/// Runs desktop flows on this machine. Thread-safe: runs are independent of each other (the desktop agent still runs
/// one at a time, as Power Automate does for unattended runs).
/// </summary>
public sealed class DesktopFlowRunner
{
    private readonly DesktopFlowRunnerOptions _options;
    private readonly List<string> _roots;

    /// <summary>Creates a runner.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public DesktopFlowRunner(DesktopFlowRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _roots = [.. options.Roots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))];
    }

    /// <summary>
    /// Runs <paramref name="definition"/> with <paramref name="inputsJson"/> (a JSON object of input name -> value, at most
    /// 2 MB; null for none). Action failures, cancellation and the time limit end the run with the matching status
    /// rather than an exception.
    /// </summary>
    /// <param name="definition">The flow.</param>
    /// <param name="inputsJson">The inputs.</param>
    /// <param name="cancellationToken">Cancels the run: it ends as <see cref="DesktopFlowRunStatus.Cancelled"/>.</param>
    /// <param name="timeLimit">This run's time limit, when shorter than the configured one.</param>
    /// <exception cref="DesktopFlowValidationException">The inputs are invalid; nothing ran.</exception>
    public async Task<DesktopFlowRunResult> RunAsync(DesktopFlowDefinition definition, string? inputsJson, CancellationToken cancellationToken = default, TimeSpan? timeLimit = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var limit = timeLimit is { } l && l < _options.TimeLimit ? l : _options.TimeLimit;
        if (limit <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeLimit), "the time limit must be more than zero");
        }

        var variables = definition.BindInputs(inputsJson);
        using var timeout = new CancellationTokenSource(limit, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using var http = _options.HttpHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }
            : new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var context = new RunContext(_options, _roots, variables, http, linked.Token, () => timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested);

        var startedAt = _options.TimeProvider.GetUtcNow();
        var completed = await context.ExecuteListAsync(definition.Actions);
        var outputs = new JsonObject();
        string? outputError = null;
        foreach (var output in definition.Outputs)
        {
            if (!context.Variables.TryGetValue(output.Name, out var value) || value is null)
            {
                outputs[output.Name] = null;
            }
            else if (FlowValues.Is(output.Type, value))
            {
                outputs[output.Name] = FlowValues.ToJson(value);
            }
            else
            {
                outputError ??= $"the output '{output.Name}' is declared {output.Type.ToString().ToLowerInvariant()} but holds a {FlowValues.TypeName(value)}";
            }
        }

        var status = completed ? (outputError is null ? DesktopFlowRunStatus.Succeeded : DesktopFlowRunStatus.Failed) : context.StopStatus;
        var error = completed ? outputError : context.StopError;
        return new DesktopFlowRunResult(status, outputs, context.Log, error, context.FailedActionId, startedAt, _options.TimeProvider.GetUtcNow(), context.LogTruncated);
    }

    /// <summary>Turns a result into the JSON the API and the agent exchange (camelCase, enums as strings).</summary>
    public static string Serialize(DesktopFlowRunResult result) => JsonSerializer.Serialize(result, JsonOptions);

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
