using System.Runtime.Loader;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// A connector's custom code, checked and loaded: <see cref="RunAsync"/> serves one call with a fresh <c>Script</c>
/// instance under a time limit. Thread-safe; calls run concurrently.
/// </summary>
public sealed class CompiledScript
{
    private readonly Func<Type> _load;
    private Lazy<Type> _type;

    internal CompiledScript(string hash, Func<Type> load, TimeSpan checkTime)
    {
        Hash = hash;
        _load = load;
        _type = new Lazy<Type>(load, LazyThreadSafetyMode.ExecutionAndPublication);
        CheckTime = checkTime;
    }

    /// <summary>SHA-256 of the script text (lower-case hex).</summary>
    public string Hash { get; }

    /// <summary>How long parsing, compiling to a semantic model, checking and rewriting took (emitting happens at the first run).</summary>
    public TimeSpan CheckTime { get; }

    /// <summary>
    /// Runs the script for one call. The script's <see cref="ScriptBase.CancellationToken"/> is cancelled after
    /// <paramref name="limit"/> or when <paramref name="cancellationToken"/> is; the script stops at its next loop
    /// iteration or call once the limit has passed. Never throws for what the script does: the outcome says whether it
    /// answered, ran out of time or failed. Throws <see cref="OperationCanceledException"/> only when
    /// <paramref name="cancellationToken"/> (the caller) cancels.
    /// </summary>
    public async Task<ScriptOutcome> RunAsync(IScriptContext context, TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Type type;
        try
        {
            type = Volatile.Read(ref _type).Value;
        }
        catch (InvalidOperationException e)
        {
            return ScriptOutcome.Failure("ScriptCompilationException", e.Message);
        }

        // The limit starts once the code is loaded: the first call of a script emits it, which is not the script's time.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        var token = deadline.Token;

        // On the thread pool, with its own budget in its execution context: a script that never awaits cannot hold the
        // request thread, and the budget flows into everything the script awaits or starts.
        var running = Task.Run(() =>
        {
            ScriptBudget.Start(limit);
            var script = (ScriptBase)Activator.CreateInstance(type)!;
            script.Context = context;
            script.CancellationToken = token;
            return script.ExecuteAsync();
        }, CancellationToken.None);

        try
        {
            var response = await running.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
            return response is null ? ScriptOutcome.Failure("NullReferenceException", "ExecuteAsync returned no response") : ScriptOutcome.Answer(response);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            DisposeLate(running);
            throw;
        }
        catch (TimeoutException) when (!running.IsCompleted)
        {
            DisposeLate(running);
            return ScriptOutcome.TimedOut();
        }
        catch (Exception e) when (e is ScriptTimeoutException || (e is OperationCanceledException && deadline.IsCancellationRequested))
        {
            return ScriptOutcome.TimedOut();
        }
        catch (Exception e)
        {
            return ScriptOutcome.Failure(e.GetType().Name, e.Message);
        }
    }

    /// <summary>
    /// Starts unloading the script's code, if it was loaded; calls still running finish first. Should a definition that
    /// still holds this script run it again (another tenant's connector of the same name), the code is loaded anew.
    /// </summary>
    internal void Unload()
    {
        var old = Interlocked.Exchange(ref _type, new Lazy<Type>(_load, LazyThreadSafetyMode.ExecutionAndPublication));
        if (old.IsValueCreated)
        {
            AssemblyLoadContext.GetLoadContext(old.Value.Assembly)?.Unload();
        }
    }

    private static void DisposeLate(Task<HttpResponseMessage> running) =>
        running.ContinueWith(t => t.Result?.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
}

/// <summary>How a run of custom code ended.</summary>
/// <param name="Response">The script's answer, or null.</param>
/// <param name="IsTimeout">True when the script ran past its time limit.</param>
/// <param name="ErrorType">The type name of the exception the script ended with, or null.</param>
/// <param name="ErrorMessage">Its message, or null.</param>
public sealed record ScriptOutcome(HttpResponseMessage? Response, bool IsTimeout, string? ErrorType, string? ErrorMessage)
{
    internal static ScriptOutcome Answer(HttpResponseMessage response) => new(response, false, null, null);

    internal static ScriptOutcome TimedOut() => new(null, true, null, null);

    internal static ScriptOutcome Failure(string type, string message) => new(null, false, type, message);
}
