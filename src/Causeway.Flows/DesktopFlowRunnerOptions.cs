namespace Causeway.Flows;

/// <summary>What a machine allows the flows it runs to do, and how long they may take.</summary>
public sealed class DesktopFlowRunnerOptions
{
    /// <summary>The longest time limit a run can have (24 hours, as Power Automate desktop flows).</summary>
    public static readonly TimeSpan MaxTimeLimit = TimeSpan.FromHours(24);

    /// <summary>
    /// The folders file, folder, CSV and SQLite actions may touch (with everything below them). A path outside every
    /// root — also through a symbolic link — is refused, and so is every file action when the list is empty.
    /// Relative paths in a flow are relative to the first root.
    /// </summary>
    public IList<string> Roots { get; } = [];

    /// <summary>How long a run may take before it ends as timed out; at most <see cref="MaxTimeLimit"/>. Default 24 h.</summary>
    public TimeSpan TimeLimit { get; set; } = MaxTimeLimit;

    /// <summary>The handler used by <c>http.request</c> (the runner does not dispose it); null for a default one.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>The clock used for timestamps, waits and the time limit.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The most iterations of one <c>forEach</c>. Default 100 000.</summary>
    public int MaxLoopIterations { get; set; } = 100_000;

    /// <summary>The most log entries kept for a run. Default 10 000.</summary>
    public int MaxLogEntries { get; set; } = 10_000;

    /// <summary>The largest file read by <c>file.read</c> or <c>csv.read</c>, and the largest HTTP response body. Default 50 MB.</summary>
    public long MaxReadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>The most characters of a program's standard output (and, separately, error) kept. Default 1 000 000.</summary>
    public int MaxCapturedOutputChars { get; set; } = 1_000_000;

    /// <summary>The most rows <c>sqlite.query</c> returns. Default 100 000.</summary>
    public int MaxRows { get; set; } = 100_000;

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and the accepted range.</exception>
    public void Validate()
    {
        if (TimeLimit <= TimeSpan.Zero || TimeLimit > MaxTimeLimit)
        {
            throw new ArgumentException($"{nameof(TimeLimit)} must be more than zero and at most 24 hours (it is {TimeLimit}).");
        }

        if (MaxLoopIterations < 1 || MaxLogEntries < 1 || MaxReadBytes < 1 || MaxCapturedOutputChars < 1 || MaxRows < 1)
        {
            throw new ArgumentException($"{nameof(MaxLoopIterations)}, {nameof(MaxLogEntries)}, {nameof(MaxReadBytes)}, {nameof(MaxCapturedOutputChars)} and {nameof(MaxRows)} must be at least 1.");
        }

        foreach (var root in Roots)
        {
            if (string.IsNullOrWhiteSpace(root) || !Path.IsPathFullyQualified(root))
            {
                throw new ArgumentException($"{nameof(Roots)}: '{root}' is not an absolute folder path.");
            }
        }
    }
}
