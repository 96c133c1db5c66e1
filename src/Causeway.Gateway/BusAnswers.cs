using Causeway.Bus;
using Microsoft.AspNetCore.Http;

namespace Causeway.Gateway;

/// <summary>How an answer from a gateway member is handed to an HTTP caller.</summary>
public static class BusAnswers
{
    /// <summary>
    /// Writes the body of an answer that crossed the bus whole with its <c>Content-Length</c>, in one write (no chunked
    /// framing, no separate closing chunk); false, with nothing written, when the body still streams and must be copied.
    /// </summary>
    public static async Task<bool> TryWriteWholeAsync(HttpContext context, IBusResponse response, CancellationToken cancellationToken)
    {
        if (response.WholeBody is not { } whole || response.Status is 204 or 304)
        {
            return false;
        }

        context.Response.ContentLength = whole.Length;
        await context.Response.Body.WriteAsync(whole, cancellationToken);
        return true;
    }
}
