using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>
/// One connector of the catalog: an imported package or a built-in. Immutable and safe to share between threads.
/// </summary>
/// <param name="Name">The <c>{connector}</c> segment of <c>/apim/{connector}/{connectionId}/...</c>: lower-case, URL-safe (see <see cref="ConnectorNaming"/>).</param>
/// <param name="DisplayName">The swagger <c>info.title</c>.</param>
/// <param name="Description">The swagger <c>info.description</c>, or null.</param>
/// <param name="Version">The swagger <c>info.version</c>, or null.</param>
/// <param name="Host">The swagger <c>host</c> (may include a port), or null when a policy supplies it at call time.</param>
/// <param name="BasePath">The swagger <c>basePath</c>, normalised to start with '/' and not end with one ("" for none).</param>
/// <param name="Schemes">The swagger <c>schemes</c>; https when absent.</param>
/// <param name="Operations">Every operation, in document order.</param>
/// <param name="SecuritySchemes">The swagger <c>securityDefinitions</c>.</param>
/// <param name="ConnectionParameters">The connection parameters of apiProperties.json.</param>
/// <param name="ConnectionParameterSets">Alternative sets of connection parameters, or empty.</param>
/// <param name="Policies">The policy template instances, in declared order.</param>
/// <param name="Capabilities">The apiProperties capabilities (cloud, gateway, actions, triggers ...), lower-cased.</param>
/// <param name="Publisher">The apiProperties publisher, or null.</param>
/// <param name="IconBrandColor">The apiProperties iconBrandColor, or null.</param>
/// <param name="HasScript">True when the package carries custom code (script.csx).</param>
/// <param name="Script">The custom code, or null.</param>
/// <param name="Classification">First-party or third-party, for the network planner.</param>
/// <param name="Warnings">Import findings that do not make the package invalid (for example a policy naming an unknown operation).</param>
/// <param name="IsBuiltIn">True for the connectors defined in code.</param>
public sealed record ConnectorDefinition(
    string Name,
    string DisplayName,
    string? Description,
    string? Version,
    string? Host,
    string BasePath,
    IReadOnlyList<string> Schemes,
    IReadOnlyList<ConnectorOperation> Operations,
    IReadOnlyList<SecurityScheme> SecuritySchemes,
    IReadOnlyList<ConnectionParameter> ConnectionParameters,
    IReadOnlyList<ConnectionParameterSet> ConnectionParameterSets,
    IReadOnlyList<PolicyTemplateInstance> Policies,
    IReadOnlyList<string> Capabilities,
    string? Publisher,
    string? IconBrandColor,
    bool HasScript,
    string? Script,
    ConnectorClassification Classification,
    IReadOnlyList<string> Warnings,
    bool IsBuiltIn = false)
{
    /// <summary>The checked and loaded custom code when <see cref="HasScript"/>, else null.</summary>
    public Scripting.CompiledScript? CustomCode { get; init; }

    /// <summary>The operations the custom code serves (apiProperties <c>scriptOperations</c>); empty means all of them.</summary>
    public IReadOnlyList<string> ScriptOperations { get; init; } = [];

    /// <summary>True when <paramref name="operation"/> is answered by the custom code rather than the plain backend call.</summary>
    public bool IsServedByScript(ConnectorOperation operation) =>
        CustomCode is not null && (ScriptOperations.Count == 0 || ScriptOperations.Contains(operation.OperationId, StringComparer.OrdinalIgnoreCase));

    /// <summary>True when the connector is reached through an on-premises data gateway.</summary>
    public bool RequiresGateway => Capabilities.Contains("gateway", StringComparer.OrdinalIgnoreCase)
        || ConnectionParameters.Any(p => p.Type == ConnectionParameterType.GatewaySetting);

    /// <summary>The operation with this operationId (ordinal, case-insensitive), or null.</summary>
    public ConnectorOperation? FindOperation(string operationId) =>
        Operations.FirstOrDefault(o => string.Equals(o.OperationId, operationId, StringComparison.OrdinalIgnoreCase));

    /// <summary>The policies that apply to <paramref name="operation"/> in <paramref name="section"/>, in declared order.</summary>
    public IReadOnlyList<PolicyTemplateInstance> PoliciesFor(ConnectorOperation operation, PolicySection section)
    {
        // Called several times on every call: a loop that allocates only when a policy applies.
        List<PolicyTemplateInstance>? found = null;
        foreach (var p in Policies)
        {
            if (p.Section == section && p.AppliesTo(operation.OperationId))
            {
                (found ??= []).Add(p);
            }
        }

        return found ?? (IReadOnlyList<PolicyTemplateInstance>)[];
    }
}

/// <summary>One operation (path + method) of a connector.</summary>
/// <param name="OperationId">The swagger operationId.</param>
/// <param name="Method">Upper-case HTTP method.</param>
/// <param name="PathTemplate">The path as written in the swagger paths object (relative to basePath).</param>
/// <param name="Summary">The operation summary, or null.</param>
/// <param name="Parameters">Parameters, path-item ones merged with the operation's, <c>$ref</c>s resolved.</param>
/// <param name="Responses">Responses by status code ("200", "default" ...).</param>
/// <param name="Visibility">x-ms-visibility, or null.</param>
/// <param name="Trigger">x-ms-trigger (batch, single), or null for an action.</param>
/// <param name="Deprecated">The swagger deprecated flag.</param>
/// <param name="PollingTrigger">The pollingtrigger policy configured for this operation, or null.</param>
/// <param name="Availability">Whether Causeway can serve the operation.</param>
public sealed record ConnectorOperation(
    string OperationId,
    string Method,
    string PathTemplate,
    string? Summary,
    IReadOnlyList<OperationParameter> Parameters,
    IReadOnlyList<OperationResponse> Responses,
    string? Visibility,
    string? Trigger,
    bool Deprecated,
    PollingTriggerConfig? PollingTrigger,
    OperationAvailability Availability)
{
    /// <summary>True when this operation is a trigger (x-ms-trigger) rather than an action.</summary>
    public bool IsTrigger => Trigger is not null;
}

/// <summary>Whether an operation can be called through Causeway, and why not.</summary>
public sealed record OperationAvailability(bool Available, string? Reason)
{
    /// <summary>An operation served by the backend directly.</summary>
    public static readonly OperationAvailability Ok = new(true, null);
}

/// <summary>Where a parameter travels (swagger <c>in</c>).</summary>
public enum ParameterLocation
{
    /// <summary>Query string.</summary>
    Query,
    /// <summary>HTTP header.</summary>
    Header,
    /// <summary>Path template segment.</summary>
    Path,
    /// <summary>Form field.</summary>
    FormData,
    /// <summary>The request body.</summary>
    Body,
}

/// <summary>One operation parameter.</summary>
/// <param name="Name">The parameter name.</param>
/// <param name="In">Where it travels.</param>
/// <param name="Type">The swagger type (string, integer, number, boolean, array, file, object for bodies), or null.</param>
/// <param name="Format">The swagger format, or null.</param>
/// <param name="Required">True when required.</param>
/// <param name="Default">The default value, or null.</param>
/// <param name="Enum">Allowed values, or null.</param>
/// <param name="Visibility">x-ms-visibility (important, advanced, internal), or null.</param>
/// <param name="Summary">x-ms-summary, or null.</param>
/// <param name="UrlEncoding">x-ms-url-encoding: "single" (the default) or "double".</param>
/// <param name="Schema">The body schema as written (refs not resolved), or null.</param>
/// <param name="DynamicValues">x-ms-dynamic-values, or null.</param>
/// <param name="DynamicSchema">x-ms-dynamic-schema, or null.</param>
public sealed record OperationParameter(
    string Name,
    ParameterLocation In,
    string? Type,
    string? Format,
    bool Required,
    JsonNode? Default,
    IReadOnlyList<JsonNode?>? Enum,
    string? Visibility,
    string? Summary,
    string UrlEncoding,
    JsonNode? Schema,
    DynamicReference? DynamicValues,
    DynamicReference? DynamicSchema);

/// <summary>An x-ms-dynamic-values or x-ms-dynamic-schema reference to another operation.</summary>
/// <param name="OperationId">The operation that supplies the values or schema, or null when the reference uses another form (capability, builtInOperation).</param>
/// <param name="ValuePath">value-path, or null.</param>
/// <param name="Raw">The extension as written.</param>
public sealed record DynamicReference(string? OperationId, string? ValuePath, JsonNode Raw);

/// <summary>One declared response.</summary>
/// <param name="StatusCode">"200", "default" ...</param>
/// <param name="Description">The description, or null.</param>
/// <param name="Schema">The schema as written, or null.</param>
/// <param name="DynamicSchema">x-ms-dynamic-schema of the schema, or null.</param>
public sealed record OperationResponse(string StatusCode, string? Description, JsonNode? Schema, DynamicReference? DynamicSchema);

/// <summary>Kind of a swagger security definition.</summary>
public enum SecuritySchemeKind
{
    /// <summary>An API key in a header or the query string.</summary>
    ApiKey,
    /// <summary>HTTP basic authentication.</summary>
    Basic,
    /// <summary>OAuth 2.0; the platform holds the token.</summary>
    OAuth2,
}

/// <summary>One swagger security definition.</summary>
/// <param name="Id">The key in securityDefinitions.</param>
/// <param name="Kind">The kind.</param>
/// <param name="In">For API keys: "header" or "query".</param>
/// <param name="ParameterName">For API keys: the header or query parameter name.</param>
/// <param name="Flow">For OAuth: accessCode, implicit ...</param>
/// <param name="AuthorizationUrl">For OAuth, or null.</param>
/// <param name="TokenUrl">For OAuth, or null.</param>
public sealed record SecurityScheme(string Id, SecuritySchemeKind Kind, string? In, string? ParameterName, string? Flow, string? AuthorizationUrl, string? TokenUrl);

/// <summary>Type of a connection parameter.</summary>
public enum ConnectionParameterType
{
    /// <summary>Plain text.</summary>
    String,
    /// <summary>Secret text: stored encrypted, never returned.</summary>
    SecureString,
    /// <summary>OAuth settings; the token is obtained by the platform.</summary>
    OAuthSetting,
    /// <summary>An on-premises data gateway selection.</summary>
    GatewaySetting,
    /// <summary>Integer.</summary>
    Int,
    /// <summary>Boolean.</summary>
    Bool,
    /// <summary>Structured value.</summary>
    Object,
    /// <summary>Secret structured value.</summary>
    SecureObject,
    /// <summary>Array.</summary>
    Array,
    /// <summary>Client certificate.</summary>
    ClientCertificate,
}

/// <summary>One connection parameter (apiProperties.json <c>connectionParameters</c>).</summary>
/// <param name="Name">The key.</param>
/// <param name="Type">The type.</param>
/// <param name="DisplayName">uiDefinition.displayName, or null.</param>
/// <param name="Description">uiDefinition.description, or null.</param>
/// <param name="Required">uiDefinition.constraints.required.</param>
/// <param name="Raw">The parameter as written (for oauthSetting: identity provider, scopes, redirect).</param>
public sealed record ConnectionParameter(string Name, ConnectionParameterType Type, string? DisplayName, string? Description, bool Required, JsonNode Raw)
{
    /// <summary>True when the value is a secret (never echoed, encrypted at rest).</summary>
    public bool IsSecret => Type is ConnectionParameterType.SecureString or ConnectionParameterType.SecureObject or ConnectionParameterType.OAuthSetting;
}

/// <summary>One alternative of connectionParameterSets.</summary>
public sealed record ConnectionParameterSet(string Name, string? DisplayName, IReadOnlyList<ConnectionParameter> Parameters);

/// <summary>Whether a connector's traffic stays inside the platform.</summary>
public enum ConnectorNetworkKind
{
    /// <summary>Published by Microsoft with a backend inside the Microsoft network.</summary>
    FirstParty,
    /// <summary>Reached over the public internet.</summary>
    ThirdParty,
}

/// <summary>Network classification of a connector, with the reason a person can check.</summary>
public sealed record ConnectorClassification(ConnectorNetworkKind Kind, string? BackendHost, string Reason);

/// <summary>A pollingtrigger policy: how a flow polls a trigger operation.</summary>
/// <param name="TriggerConfig">Query parameters to add on the next poll, as expressions over the last trigger body.</param>
/// <param name="TriggerDataPath">Where the items are in the trigger body (for example <c>@triggerBody().data</c>).</param>
public sealed record PollingTriggerConfig(IReadOnlyDictionary<string, string> TriggerConfig, string? TriggerDataPath);
