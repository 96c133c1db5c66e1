namespace Causeway.Relay.HybridConnections;

/// <summary>What a key of a hybrid connection may do. Manage implies Listen and Send, as in Azure.</summary>
[Flags]
public enum AccessRights
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Open a listener control channel.</summary>
    Listen = 1,

    /// <summary>Connect as a sender (WebSocket or HTTP mode).</summary>
    Send = 2,

    /// <summary>Manage the entity; implies Listen and Send.</summary>
    Manage = 4,
}

/// <summary>A named key of a hybrid connection. Keys are secrets: never log them.</summary>
public sealed record AuthorizationRule(string KeyName, AccessRights Rights, string PrimaryKey, string SecondaryKey)
{
    /// <summary>True when this rule grants <paramref name="required"/>.</summary>
    public bool Grants(AccessRights required) =>
        (Rights & AccessRights.Manage) != 0 || (Rights & required) == required;

    /// <inheritdoc/>
    public override string ToString() => $"AuthorizationRule {KeyName} ({Rights})";
}

/// <summary>A hybrid connection: the rendezvous point that listeners and senders meet at.</summary>
public sealed record HybridConnection(
    string Path,
    bool RequiresClientAuthorization,
    bool HttpModeEnabled,
    IReadOnlyList<AuthorizationRule> AuthorizationRules,
    DateTimeOffset CreatedAt)
{
    /// <summary>The name of the rule every hybrid connection gets on creation.</summary>
    public const string DefaultRuleName = "RootManageSharedAccessKey";

    /// <summary>All rights, for the default rule.</summary>
    public const AccessRights AllRights = AccessRights.Listen | AccessRights.Send | AccessRights.Manage;
}
