using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Causeway.Flows;

/// <summary>How a run ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DesktopFlowRunStatus>))]
public enum DesktopFlowRunStatus
{
    /// <summary>Every action ran and succeeded.</summary>
    Succeeded,

    /// <summary>An action failed; the actions after it were skipped.</summary>
    Failed,

    /// <summary>The caller cancelled the run.</summary>
    Cancelled,

    /// <summary>The run reached its time limit.</summary>
    TimedOut,
}

/// <summary>What became of one action (an action inside a loop has one entry per iteration).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ActionRunStatus>))]
public enum ActionRunStatus
{
    /// <summary>Started and not yet finished.</summary>
    Running,

    /// <summary>Finished without error.</summary>
    Succeeded,

    /// <summary>Finished with an error (or an action nested in it did).</summary>
    Failed,

    /// <summary>Not run because an earlier action failed, or the run was cancelled or timed out.</summary>
    Skipped,

    /// <summary>Running when the run was cancelled.</summary>
    Cancelled,

    /// <summary>Running when the run reached its time limit.</summary>
    TimedOut,
}

/// <summary>One line of a run's log. It never holds variable values: only ids, times, status and a redacted error.</summary>
public sealed class ActionLogEntry
{
    internal ActionLogEntry(string actionId, string type)
    {
        ActionId = actionId;
        Type = type;
    }

    /// <summary>The action's id in the definition.</summary>
    public string ActionId { get; }

    /// <summary>The action's type, for example <c>file.copy</c>.</summary>
    public string Type { get; }

    /// <summary>What became of it.</summary>
    public ActionRunStatus Status { get; internal set; }

    /// <summary>When it started (null when skipped).</summary>
    public DateTimeOffset? StartedAt { get; internal set; }

    /// <summary>When it ended (null when skipped).</summary>
    public DateTimeOffset? EndedAt { get; internal set; }

    /// <summary>Why it failed, with every secret of the run replaced by <c>***</c>.</summary>
    public string? Error { get; internal set; }
}

/// <summary>The outcome of a run.</summary>
/// <param name="Status">How the run ended.</param>
/// <param name="Outputs">The declared outputs that have a value (all of them when the run succeeded).</param>
/// <param name="Log">Action by action, in the order they started; skipped actions after the point where the run stopped.</param>
/// <param name="Error">For a run that did not succeed: why (the failing action's error, redacted).</param>
/// <param name="FailedActionId">The id of the action that failed, when one did.</param>
/// <param name="StartedAt">When the run started.</param>
/// <param name="EndedAt">When the run ended.</param>
/// <param name="LogTruncated">True when the run had more log entries than <see cref="DesktopFlowRunnerOptions.MaxLogEntries"/>; the rest were not kept.</param>
public sealed record DesktopFlowRunResult(
    DesktopFlowRunStatus Status,
    JsonObject Outputs,
    IReadOnlyList<ActionLogEntry> Log,
    string? Error,
    string? FailedActionId,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    bool LogTruncated);
