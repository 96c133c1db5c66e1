using System.Diagnostics;

namespace Causeway.Testing;

/// <summary>Waits for a condition instead of sleeping: tests stay fast when things are quick and explain themselves when not.</summary>
public static class Poll
{
    /// <summary>
    /// Evaluates <paramref name="condition"/> until it returns true, backing off from 10 ms to 250 ms between tries.
    /// </summary>
    /// <exception cref="TimeoutException">The condition stayed false for <paramref name="timeout"/>; the message names <paramref name="whatWeWaitFor"/>.</exception>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string whatWeWaitFor)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var watch = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(10);
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                // A condition that throws (e.g. connection refused) is "not yet", but keep the reason for the message.
                last = ex;
            }

            if (watch.Elapsed >= timeout)
            {
                var reason = last is null ? string.Empty : $" Last error: {last.GetType().Name}: {last.Message}";
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {whatWeWaitFor}.{reason}");
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(250, delay.TotalMilliseconds * 2));
        }
    }

    /// <summary>Synchronous-condition overload of <see cref="UntilAsync(Func{Task{bool}}, TimeSpan, string)"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string whatWeWaitFor)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() => Task.FromResult(condition()), timeout, whatWeWaitFor);
    }
}
