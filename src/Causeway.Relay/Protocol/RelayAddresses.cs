namespace Causeway.Relay.Protocol;

/// <summary>Query parameter names and actions of the Hybrid Connections protocol.</summary>
internal static class RelayAddresses
{
    public const string HcSegment = "$hc";
    public const string Action = "sb-hc-action";
    public const string Id = "sb-hc-id";
    public const string Token = "sb-hc-token";
    public const string StatusCode = "sb-hc-statusCode";
    public const string StatusDescription = "sb-hc-statusDescription";
    public const string AuthorizationHeader = "ServiceBusAuthorization";
    public const string Listen = "listen";
    public const string Connect = "connect";
    public const string Accept = "accept";
    public const string Request = "request";

    /// <summary>Normalizes a hybrid connection path: no leading or trailing slash.</summary>
    public static string TrimPath(string path) => path.Trim('/');
}
