using System.Text.Json;

namespace Causeway.Flows;

/// <summary>The state of one run: variables, log, and how it stopped. Used by one run at a time.</summary>
internal sealed partial class RunContext(
    DesktopFlowRunnerOptions options,
    IReadOnlyList<string> roots,
    Dictionary<string, object?> variables,
    HttpClient http,
    CancellationToken token,
    Func<bool> timedOut)
{
    private readonly List<string> _secrets = [.. variables.Values.OfType<SecretString>().Select(s => s.Value).Where(s => s.Length > 0).OrderByDescending(s => s.Length)];

    public Dictionary<string, object?> Variables { get; } = variables;

    public List<ActionLogEntry> Log { get; } = [];

    public bool LogTruncated { get; private set; }

    public DesktopFlowRunnerOptions Options { get; } = options;

    public HttpClient Http { get; } = http;

    public CancellationToken Token { get; } = token;

    public DesktopFlowRunStatus StopStatus { get; private set; } = DesktopFlowRunStatus.Failed;

    public string? StopError { get; private set; }

    public string? FailedActionId { get; private set; }

    public DateTimeOffset Now => Options.TimeProvider.GetUtcNow();

    /// <summary>Runs a list of actions in order; on the first that does not succeed, logs the rest as skipped and returns false.</summary>
    public async Task<bool> ExecuteListAsync(JsonElement actions)
    {
        var list = actions.EnumerateArray().ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!await ExecuteAsync(list[i]))
            {
                foreach (var skipped in list.Skip(i + 1))
                {
                    Add(new ActionLogEntry(skipped.GetProperty("id").GetString()!, skipped.GetProperty("type").GetString()!) { Status = ActionRunStatus.Skipped });
                }

                return false;
            }
        }

        return true;
    }

    public string Redact(string message)
    {
        foreach (var secret in _secrets)
        {
            message = message.Replace(secret, "***", StringComparison.Ordinal);
        }

        return message;
    }

    private async Task<bool> ExecuteAsync(JsonElement action)
    {
        var id = action.GetProperty("id").GetString()!;
        var type = action.GetProperty("type").GetString()!;
        var entry = new ActionLogEntry(id, type) { Status = ActionRunStatus.Running, StartedAt = Now };
        Add(entry);
        try
        {
            Token.ThrowIfCancellationRequested();
            var succeeded = await DispatchAsync(type, new ActionArguments(action, this));
            entry.EndedAt = Now;
            entry.Status = succeeded ? ActionRunStatus.Succeeded : StopStatus switch
            {
                DesktopFlowRunStatus.Cancelled => ActionRunStatus.Cancelled,
                DesktopFlowRunStatus.TimedOut => ActionRunStatus.TimedOut,
                _ => ActionRunStatus.Failed,
            };
            entry.Error = succeeded ? null : StopError;
            return succeeded;
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            entry.EndedAt = Now;
            StopStatus = timedOut() ? DesktopFlowRunStatus.TimedOut : DesktopFlowRunStatus.Cancelled;
            entry.Status = StopStatus == DesktopFlowRunStatus.TimedOut ? ActionRunStatus.TimedOut : ActionRunStatus.Cancelled;
            StopError = StopStatus == DesktopFlowRunStatus.TimedOut ? "the run reached its time limit" : "the run was cancelled";
            entry.Error = StopError;
            return false;
        }
        catch (Exception e)
        {
            entry.EndedAt = Now;
            entry.Status = ActionRunStatus.Failed;
            entry.Error = Redact(e is FlowActionException ? e.Message : $"{e.GetType().Name}: {e.Message}");
            StopStatus = DesktopFlowRunStatus.Failed;
            StopError = entry.Error;
            FailedActionId = id;
            return false;
        }
    }

    private void Add(ActionLogEntry entry)
    {
        if (Log.Count < Options.MaxLogEntries)
        {
            Log.Add(entry);
        }
        else
        {
            LogTruncated = true;
        }
    }

    private async Task<bool> DispatchAsync(string type, ActionArguments a)
    {
        switch (type)
        {
            case "if":
                var condition = Expression.Parse(a.Literal("condition")).Evaluate(Variables);
                if (condition is not bool branch)
                {
                    throw new FlowActionException($"the condition must be true or false, not a {FlowValues.TypeName(condition)}");
                }

                return branch ? await ExecuteListAsync(a.Raw("then")!.Value)
                    : a.Raw("else") is not { } otherwise || await ExecuteListAsync(otherwise);
            case "forEach":
                if (a.Value("items") is not List<object?> items)
                {
                    throw new FlowActionException("'items' must be a list");
                }

                if (items.Count > Options.MaxLoopIterations)
                {
                    throw new FlowActionException($"the list has {items.Count} items; a loop runs at most {Options.MaxLoopIterations} times");
                }

                var body = a.Raw("actions")!.Value;
                foreach (var item in items.ToList())
                {
                    Variables[a.Literal("as")] = item;
                    if (!await ExecuteListAsync(body))
                    {
                        return false;
                    }
                }

                return true;
            case "variable.set":
                Variables[a.Literal("name")] = a.Value("value");
                return true;
            case "wait":
                await Task.Delay(TimeSpan.FromSeconds(a.Number("seconds", 0, 0, ActionCatalog.MaxWaitSeconds)), Options.TimeProvider, Token);
                return true;
            default:
                await BasicActions.RunAsync(type, a);
                return true;
        }
    }
}
