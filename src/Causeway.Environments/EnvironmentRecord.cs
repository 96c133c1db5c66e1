using Causeway.Topology;

namespace Causeway.Environments;

/// <summary>The lifecycle states of an environment.</summary>
public enum EnvironmentState
{
    /// <summary>Placed; its database is being created.</summary>
    Provisioning,

    /// <summary>Serving.</summary>
    Ready,

    /// <summary>Its database is being removed.</summary>
    Deleting,

    /// <summary>A trial past its expiry: kept, but not served.</summary>
    Disabled,
}

/// <summary>Roles a user holds in one environment.</summary>
public enum EnvironmentRole
{
    /// <summary>Reads and writes rows.</summary>
    BasicUser,

    /// <summary>Also changes tables.</summary>
    EnvironmentMaker,

    /// <summary>Everything, including roles and deletion.</summary>
    SystemAdministrator,
}

/// <summary>An environment as stored in the platform database.</summary>
public sealed record EnvironmentRecord(
    Guid Id,
    Guid TenantId,
    string Name,
    string Geography,
    EnvironmentType Type,
    EnvironmentState StoredState,
    bool EarlyRelease,
    string PrimaryDatacenter,
    string SecondaryDatacenter,
    string PrimaryScaleGroup,
    string SecondaryScaleGroup,
    string DatabaseLocation,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    Guid? CreatedBy)
{
    /// <summary>How long a trial lives.</summary>
    public static readonly TimeSpan TrialLifetime = TimeSpan.FromDays(30);

    /// <summary>The state as of <paramref name="now"/>: a ready trial past its expiry is disabled.</summary>
    public EnvironmentState StateAt(DateTimeOffset now) =>
        StoredState == EnvironmentState.Ready && ExpiresAt is { } expiry && expiry <= now ? EnvironmentState.Disabled : StoredState;
}
