using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>Where a policy runs: on the way to the backend or on the way back.</summary>
public enum PolicySection
{
    /// <summary>Before the backend call.</summary>
    Request,
    /// <summary>After the backend call.</summary>
    Response,
}

/// <summary>
/// One entry of apiProperties.json <c>policyTemplateInstances</c>.
/// </summary>
/// <param name="TemplateId">The template id, lower-cased (the corpus spells it several ways).</param>
/// <param name="Title">The title, or null.</param>
/// <param name="Section">Request or Response (x-ms-apimTemplate-policySection, defaulted per template).</param>
/// <param name="OperationIds">x-ms-apimTemplate-operationName; empty means every operation.</param>
/// <param name="Parameters">The x-ms-apimTemplateParameter.* values with the prefix removed, as written (strings, or JSON text for objects).</param>
public sealed record PolicyTemplateInstance(
    string TemplateId,
    string? Title,
    PolicySection Section,
    IReadOnlyList<string> OperationIds,
    IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>True when the policy applies to the operation (no filter, or the operation named in it).</summary>
    public bool AppliesTo(string operationId) =>
        OperationIds.Count == 0 || OperationIds.Contains(operationId, StringComparer.OrdinalIgnoreCase);

    /// <summary>A template parameter (the name without x-ms-apimTemplateParameter.), or null.</summary>
    public string? Get(string name) => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>The parameter object as written, including the x-ms-apimTemplate-* keys.</summary>
    public JsonObject? Raw { get; init; }
}

/// <summary>The policy template ids Causeway knows (every one found in the public connector corpus).</summary>
public static class PolicyTemplateIds
{
    /// <summary>Sets, appends or keeps a header.</summary>
    public const string SetHeader = "setheader";
    /// <summary>Replaces scheme, host and base path from a template.</summary>
    public const string DynamicHostUrl = "dynamichosturl";
    /// <summary>Same as dynamichosturl, for a template that only varies the sub-domain.</summary>
    public const string DynamicSubdomain = "dynamicsubdomain";
    /// <summary>Rewrites the operation path (and optionally method).</summary>
    public const string RouteRequestToEndpoint = "routerequesttoendpoint";
    /// <summary>Sets a query parameter.</summary>
    public const string SetQueryParameter = "setqueryparameter";
    /// <summary>Sets a JSON body property from a template.</summary>
    public const string SetProperty = "setproperty";
    /// <summary>Rewrites a next-page link so that it points back at the platform.</summary>
    public const string UpdateNextLink = "updatenextlink";
    /// <summary>Replaces text in a body property.</summary>
    public const string StringReplace = "stringreplace";
    /// <summary>Turns a keyed object into an array.</summary>
    public const string ConvertObjectToArray = "convertobjecttoarray";
    /// <summary>Turns an array into a keyed object.</summary>
    public const string ConvertArrayToObject = "convertarraytoobject";
    /// <summary>Fetches a value with a side request and sets it on the request.</summary>
    public const string SetValueFromUrl = "setvaluefromurl";
    /// <summary>Splits a delimited string into an array of objects.</summary>
    public const string StringToArray = "stringtoarray";
    /// <summary>URL-encodes a body property.</summary>
    public const string EncodePropertyValue = "encodepropertyvalue";
    /// <summary>Moves or copies body properties.</summary>
    public const string MoveProperties = "moveproperties";
    /// <summary>Marks the connection unauthenticated on a status code.</summary>
    public const string SetConnectionStatusToUnauthenticated = "setconnectionstatustounauthenticated";
    /// <summary>Configuration of a polling trigger; no effect on a single call.</summary>
    public const string PollingTrigger = "pollingtrigger";

    /// <summary>Every known id.</summary>
    public static readonly FrozenSet<string> All = new[]
    {
        SetHeader, DynamicHostUrl, DynamicSubdomain, RouteRequestToEndpoint, SetQueryParameter, SetProperty, UpdateNextLink,
        StringReplace, ConvertObjectToArray, ConvertArrayToObject, SetValueFromUrl, StringToArray, EncodePropertyValue,
        MoveProperties, SetConnectionStatusToUnauthenticated, PollingTrigger,
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The section a template runs in when x-ms-apimTemplate-policySection is absent.</summary>
    internal static PolicySection DefaultSection(string templateId) => templateId switch
    {
        UpdateNextLink or SetConnectionStatusToUnauthenticated => PolicySection.Response,
        _ => PolicySection.Request,
    };
}
