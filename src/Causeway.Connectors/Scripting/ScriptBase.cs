using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Causeway.Connectors.Scripting;

/// <summary>
/// The base class of a connector's custom code (<c>script.csx</c>): the package defines <c>public class Script : ScriptBase</c>
/// and overrides <see cref="ExecuteAsync"/>, which answers the operation instead of the plain backend call. The shape is the
/// one Microsoft's custom-code host exposes, so published scripts compile unchanged. One instance serves one call.
/// </summary>
public abstract class ScriptBase
{
    /// <summary>The call being served: its operation, the prepared backend request, a logger and the way to send requests.</summary>
    public IScriptContext Context { get; internal set; } = null!;

    /// <summary>Cancelled when the call's time limit passes or the caller goes away; pass it to <see cref="IScriptContext.SendAsync"/>.</summary>
    public CancellationToken CancellationToken { get; internal set; }

    /// <summary>A UTF-8 <c>application/json</c> body holding <paramref name="serializedJson"/> as given.</summary>
    public static StringContent CreateJsonContent(string serializedJson) =>
        new(serializedJson, Encoding.UTF8, new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" });

    /// <summary>Serves the operation; the returned response is what the caller receives.</summary>
    public abstract Task<HttpResponseMessage> ExecuteAsync();
}

/// <summary>What custom code sees of the call it serves.</summary>
public interface IScriptContext
{
    /// <summary>An id of this call, also in the platform's log line for it.</summary>
    string CorrelationId { get; }

    /// <summary>The operationId of the operation being served.</summary>
    string OperationId { get; }

    /// <summary>
    /// The URL the caller used to reach the operation (the platform's <c>/apim/{connector}/{connection}/...</c> address
    /// with its query), for example to build a webhook's callback or a Location header. Not in Microsoft's published
    /// interface, but present on its host and used by published scripts.
    /// </summary>
    Uri OriginalRequestUri { get; }

    /// <summary>
    /// An absolute URL on the platform that, when called, runs this connector's operation at
    /// <paramref name="relativePath"/> (with its query) over the same connection: what a script hands a backend as a
    /// webhook callback. Like <see cref="OriginalRequestUri"/>, present on Microsoft's host though not in its published interface.
    /// </summary>
    Uri CreateNotificationUri(string relativePath);

    /// <summary>
    /// The backend request as the platform prepared it: URL from the operation's path and query, connection credentials
    /// and request policies applied. The script may change it and pass it to <see cref="SendAsync"/>.
    /// </summary>
    HttpRequestMessage Request { get; }

    /// <summary>A logger whose lines carry the connector and operation.</summary>
    ILogger Logger { get; }

    /// <summary>
    /// Sends a request through the platform's backend client (pooled connections, time-outs, retries of idempotent
    /// requests); the only way out of the script. Throws <see cref="HttpRequestException"/> when the backend cannot be reached.
    /// </summary>
    Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken);
}
