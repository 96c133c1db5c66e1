using System.Collections.Frozen;

namespace Causeway.Connectors;

/// <summary>
/// Sends a side request (setvaluefromurl) to the backend and returns its answer. The server supplies it, usually
/// its HttpClient; the request already carries the connection's credentials.
/// </summary>
public delegate Task<ApimResponse> SideRequestSender(ApimRequest request, CancellationToken cancellationToken);

/// <summary>
/// Everything the policies of one call may read or change. Mutable; one per call, not thread-safe.
/// </summary>
public sealed class PolicyContext
{
    private readonly IReadOnlyDictionary<string, string> _connectionValues;

    /// <summary>Creates the context of one call.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="operation">The matched operation.</param>
    /// <param name="request">The outgoing request (after credential injection).</param>
    /// <param name="connectionValues">The connection's decrypted parameter values by name; OAuth token properties as <c>token:Name</c>.</param>
    public PolicyContext(ConnectorDefinition connector, ConnectorOperation operation, ApimRequest request, IReadOnlyDictionary<string, string>? connectionValues = null)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(request);
        Connector = connector;
        Operation = operation;
        Request = request;
        OriginalMethod = request.Method;
        OriginalPath = request.Path;
        OriginalBaseUrl = request.BaseUrl;
        _connectionValues = ConnectionValueMap.IgnoringCase(connectionValues);
    }

    /// <summary>The connector.</summary>
    public ConnectorDefinition Connector { get; }

    /// <summary>The matched operation.</summary>
    public ConnectorOperation Operation { get; }

    /// <summary>The outgoing request; request policies change it.</summary>
    public ApimRequest Request { get; }

    /// <summary>The backend's answer; response policies change it. Set it before <see cref="PolicyPipeline.ApplyResponse"/>.</summary>
    public ApimResponse? Response { get; set; }

    /// <summary>Path parameter values of the matched operation (decoded), for <c>{name}</c> in newPath and parameterValueUrl.</summary>
    public IReadOnlyDictionary<string, string> PathParameters { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// The caller-facing base of this connection, for example <c>https://host/apim/planner/0c1d...</c>; updatenextlink
    /// points next-page links there. When null, next links are left as the backend wrote them.
    /// </summary>
    public Uri? FrontendBaseUri { get; init; }

    /// <summary>
    /// The caller's request headers as received. <c>@headers('x')</c> reads the outgoing request first and falls back
    /// to these: a host template may read a header the operation does not declare (and which is therefore not
    /// forwarded to the backend).
    /// </summary>
    public IEnumerable<KeyValuePair<string, string>>? IncomingHeaders { get; init; }

    /// <summary>Sends setvaluefromurl side requests; when null such a policy fails with <see cref="PolicyException"/>.</summary>
    public SideRequestSender? SideRequests { get; init; }

    /// <summary>The method before request policies ran.</summary>
    public string OriginalMethod { get; }

    /// <summary>The operation path (relative to the base URL) before request policies ran.</summary>
    public string OriginalPath { get; }

    /// <summary>The base URL before request policies ran.</summary>
    public string OriginalBaseUrl { get; }

    /// <summary>Set by setconnectionstatustounauthenticated: the server should mark the connection as needing sign-in again.</summary>
    public bool ConnectionUnauthenticated { get; set; }

    /// <summary>
    /// What each applied policy did, in order (no values: safe to log), when given a list to fill; null (the default)
    /// records nothing, so that calls do not pay for text no one reads.
    /// </summary>
    public IList<string>? Trace { get; init; }

    internal string? ConnectionValue(string name) => _connectionValues.TryGetValue(name, out var v) ? v : null;

    internal string? Header(ApimRequest request, string name) =>
        request.Headers[name] ?? IncomingHeaders?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>A policy could not be applied to this call (for example a host template that yields no valid URL).</summary>
public sealed class PolicyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PolicyException(string templateId, string problem)
        : base($"policy '{templateId}': {problem}")
    {
        TemplateId = templateId;
    }

    /// <summary>Required by CA1032.</summary>
    public PolicyException()
        : this("unknown", "failed")
    {
    }

    /// <summary>Required by CA1032.</summary>
    public PolicyException(string message)
        : base(message)
    {
        TemplateId = "unknown";
    }

    /// <summary>Required by CA1032.</summary>
    public PolicyException(string message, Exception innerException)
        : base(message, innerException)
    {
        TemplateId = "unknown";
    }

    /// <summary>The template that failed.</summary>
    public string TemplateId { get; }
}
