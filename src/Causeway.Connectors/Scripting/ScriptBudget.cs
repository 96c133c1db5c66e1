using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// The time limit of custom code. The host rewrites every script so that each loop iteration, method, lambda and local
/// function entry calls <see cref="Check"/>, and every catch clause is filtered by <see cref="CanCatch"/>: a script past
/// its deadline stops at its next step and cannot swallow that. Public only because compiled scripts call it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ScriptBudget
{
    private static readonly AsyncLocal<Deadline?> Current = new();

    /// <summary>
    /// Throws when the running call's deadline has passed (or no call is running), and
    /// <see cref="InsufficientExecutionStackException"/> when the stack is nearly full, so runaway recursion fails the call
    /// instead of the process.
    /// </summary>
    public static void Check()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (Current.Value is not { } deadline)
        {
            throw new ScriptTimeoutException("custom code ran outside a call");
        }

        if (deadline.Expired)
        {
            throw new ScriptTimeoutException("custom code ran past its time limit");
        }
    }

    /// <summary>False once the deadline has passed: from then on a script's catch clauses no longer apply.</summary>
    public static bool CanCatch() => Current.Value is { Expired: false };

    /// <summary>Thread.Sleep as a script sees it: sleeps at most until the deadline, then fails the call like <see cref="Check"/>.</summary>
    public static void Sleep(int millisecondsTimeout) => Sleep(TimeSpan.FromMilliseconds(millisecondsTimeout < 0 ? int.MaxValue : millisecondsTimeout));

    /// <summary>Thread.Sleep as a script sees it: sleeps at most until the deadline, then fails the call like <see cref="Check"/>.</summary>
    public static void Sleep(TimeSpan timeout)
    {
        Check();
        var remaining = Current.Value!.Remaining;
        Thread.Sleep(timeout < remaining ? timeout : remaining);
        Check();
    }

    /// <summary>Starts the budget of one call on the current execution context (flows into its awaits and tasks).</summary>
    internal static void Start(TimeSpan limit) => Current.Value = new Deadline(Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency));

    /// <summary>True when the budget of the current execution context has run out.</summary>
    internal static bool Exhausted => Current.Value is { Expired: true };

    private sealed class Deadline(long end)
    {
        public bool Expired => Stopwatch.GetTimestamp() >= end;

        public TimeSpan Remaining => TimeSpan.FromSeconds(Math.Max(0, end - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
    }
}

/// <summary>Custom code ran past its time limit (or outside a call).</summary>
public sealed class ScriptTimeoutException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScriptTimeoutException()
        : this("custom code ran past its time limit")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScriptTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScriptTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
