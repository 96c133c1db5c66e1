using System.Text.Json.Serialization;

namespace Causeway.Relay.Management;

/// <summary>Body of <c>POST /api/v1/relay/hybridconnections</c>.</summary>
public sealed record CreateHybridConnectionRequest(
    string? Path,
    bool? RequiresClientAuthorization = null,
    bool? HttpModeEnabled = null,
    IReadOnlyList<CreateAuthorizationRuleRequest>? AuthorizationRules = null);

/// <summary>An extra authorization rule to create with the hybrid connection (keys are generated).</summary>
public sealed record CreateAuthorizationRuleRequest(string? KeyName, IReadOnlyList<string>? Rights);

/// <summary>A hybrid connection as the API shows it. Secrets are present only for callers allowed to read them.</summary>
public sealed record HybridConnectionResponse(
    string Path,
    string Endpoint,
    bool RequiresClientAuthorization,
    bool HttpModeEnabled,
    int ListenerCount,
    IReadOnlyList<AuthorizationRuleResponse> AuthorizationRules,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ConnectionString);

/// <summary>An authorization rule as the API shows it.</summary>
public sealed record AuthorizationRuleResponse(
    string KeyName,
    IReadOnlyList<string> Rights,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrimaryKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SecondaryKey);
