using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Causeway.Network;

/// <summary>The path a flow takes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FlowPath>))]
public enum FlowPath
{
    /// <summary>Over a customer ExpressRoute circuit (Microsoft peering).</summary>
    [JsonStringEnumMemberName("expressroute")]
    ExpressRoute,

    /// <summary>Over the public internet.</summary>
    [JsonStringEnumMemberName("internet")]
    Internet,

    /// <summary>Inside Microsoft's network (the platform's datacenter); never the customer's circuit.</summary>
    [JsonStringEnumMemberName("backbone")]
    Backbone,

    /// <summary>No path: no circuit admits it and the site has no internet breakout, or its destination failed.</summary>
    [JsonStringEnumMemberName("unreachable")]
    Unreachable,
}

/// <summary>What a flow carries.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FlowKind>))]
public enum FlowKind
{
    /// <summary>Users to an environment in one datacenter of its pair.</summary>
    [JsonStringEnumMemberName("users")]
    Users,

    /// <summary>Browsers to CDN static content.</summary>
    [JsonStringEnumMemberName("staticContent")]
    StaticContent,

    /// <summary>Sign-in with Microsoft Entra ID.</summary>
    [JsonStringEnumMemberName("signIn")]
    SignIn,

    /// <summary>A gateway member to the bus of its region.</summary>
    [JsonStringEnumMemberName("gateway")]
    Gateway,

    /// <summary>A desktop machine to the relay of its environment's region.</summary>
    [JsonStringEnumMemberName("machine")]
    Machine,

    /// <summary>The platform to a Microsoft connector backend.</summary>
    [JsonStringEnumMemberName("firstPartyConnector")]
    FirstPartyConnector,

    /// <summary>The platform to a non-Microsoft connector backend.</summary>
    [JsonStringEnumMemberName("thirdPartyConnector")]
    ThirdPartyConnector,

    /// <summary>The platform to the Azure services it is built on.</summary>
    [JsonStringEnumMemberName("azureServices")]
    AzureServices,
}

/// <summary>Severity of a finding.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    /// <summary>Traffic will fail or leave the circuit; fix before relying on the design.</summary>
    [JsonStringEnumMemberName("error")]
    Error,

    /// <summary>Works today but is fragile or needs an outside step.</summary>
    [JsonStringEnumMemberName("warning")]
    Warning,

    /// <summary>An expectation that cannot hold, or a fact worth knowing.</summary>
    [JsonStringEnumMemberName("info")]
    Info,
}

/// <summary>One traffic flow and the path it takes.</summary>
/// <param name="From">Origin, for example <c>hq/users</c>.</param>
/// <param name="To">Destination, for example <c>westeurope (primary, europe)</c>.</param>
/// <param name="Path">The path.</param>
/// <param name="Circuit">The circuit it rides, for the expressroute path.</param>
/// <param name="Community">The community that admits it, for the expressroute path.</param>
/// <param name="Reason">Why it takes this path.</param>
public sealed record Flow(string From, string To, FlowPath Path, string? Circuit, string? Community, string Reason)
{
    /// <summary>What the flow carries.</summary>
    public FlowKind Kind { get; init; }

    /// <summary>The site it starts at, for site flows.</summary>
    public string? Site { get; init; }

    /// <summary>The datacenter (Azure region) it goes to, when it goes to one.</summary>
    public string? Datacenter { get; init; }

    /// <summary>
    /// The environments the flow serves, when it serves some. Every environment of a geography shares its datacenter pair,
    /// so one flow stands for all of them; the JSON output lists them only up to <see cref="MaxListedEnvironments"/>.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string>? Environments { get; init; }

    /// <summary>How many environments the flow serves (JSON: <c>environmentCount</c>).</summary>
    public int? EnvironmentCount => Environments?.Count;

    /// <summary>The environments, when there are few enough to list (JSON: <c>environments</c>).</summary>
    [JsonPropertyName("environments")]
    public IReadOnlyList<string>? ListedEnvironments => Environments is { Count: <= MaxListedEnvironments } list ? list : null;

    /// <summary>Above this many environments a flow's JSON gives only the count, which keeps large plans linear in size.</summary>
    public const int MaxListedEnvironments = 50;

    /// <summary>Identifies the same logical flow across what-if runs (the destination may move on failover).</summary>
    [JsonIgnore]
    internal string Key { get; init; } = "";
}

/// <summary>A misconfiguration, risk or impossible expectation, with the fix.</summary>
/// <param name="Code">Stable code (see <see cref="FindingCodes"/>).</param>
/// <param name="Severity">Severity.</param>
/// <param name="Message">What is wrong and what it causes.</param>
/// <param name="Fix">What to change.</param>
/// <param name="Objects">Names of the objects involved (<c>circuit:er-ams</c>, <c>environment:contoso-prod</c>).</param>
/// <param name="Communities">Exact community values involved.</param>
public sealed record Finding(string Code, Severity Severity, string Message, string Fix, IReadOnlyList<string> Objects, IReadOnlyList<string> Communities);

/// <summary>The route filter a circuit should have: one Allow rule with exactly these communities.</summary>
public sealed record RouteFilterArtifact(string Circuit, string RouteFilter, string Rule, string ResourceGroup, string Location, IReadOnlyList<string> Communities);

/// <summary>One entry of a site's firewall allow-list.</summary>
public sealed record FirewallRule(string Site, string Host, string Port, string Purpose)
{
    /// <summary>True when the host pattern is not confirmed by public documentation.</summary>
    public bool Unverified { get; init; }
}

/// <summary>Configuration that fixes the findings.</summary>
/// <param name="RouteFilters">The route filter each circuit should have.</param>
/// <param name="AzCli">Azure CLI commands (bash).</param>
/// <param name="Bicep">A Bicep file.</param>
/// <param name="Arm">The same as an ARM template.</param>
/// <param name="Firewall">Platform endpoints each site must be able to reach.</param>
public sealed record PlanArtifacts(
    IReadOnlyList<RouteFilterArtifact> RouteFilters, string AzCli, string Bicep, JsonObject Arm, IReadOnlyList<FirewallRule> Firewall);

/// <summary>Failures to simulate.</summary>
/// <param name="FailedDatacenters">Datacenter (Azure region) ids that are down.</param>
/// <param name="FailedCircuits">Circuit names that are down.</param>
public sealed record WhatIf(IReadOnlyList<string> FailedDatacenters, IReadOnlyList<string> FailedCircuits)
{
    /// <summary>Nothing fails.</summary>
    public static WhatIf None { get; } = new([], []);

    /// <summary>True when nothing fails.</summary>
    [JsonIgnore]
    public bool IsEmpty => FailedDatacenters.Count == 0 && FailedCircuits.Count == 0;

    /// <summary>Fails one datacenter.</summary>
    public static WhatIf Datacenter(string id) => new([id], []);

    /// <summary>Fails one circuit.</summary>
    public static WhatIf Circuit(string name) => new([], [name]);
}

/// <summary>A flow whose path changes under a what-if.</summary>
public sealed record PathChange(string From, string Before, string After, FlowPath PathBefore, FlowPath PathAfter, string? CircuitBefore, string? CircuitAfter, string Reason);

/// <summary>The plan: every flow with its path, the findings and the artifacts that fix them.</summary>
public sealed record PlanResult(IReadOnlyList<Flow> Flows, IReadOnlyList<Finding> Findings, PlanArtifacts Artifacts)
{
    /// <summary>The failures simulated, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public WhatIf? WhatIf { get; init; }

    /// <summary>Flows whose path differs from the plan without failures; null without a what-if.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PathChange>? Changes { get; init; }

    /// <summary>True when a finding of severity error exists.</summary>
    [JsonIgnore]
    public bool HasErrors => Findings.Any(f => f.Severity == Severity.Error);
}

/// <summary>The stable finding codes.</summary>
public static class FindingCodes
{
    /// <summary>The route filter lacks one or both regional communities of a geography the site's traffic needs.</summary>
    public const string MissingCommunity = "route-filter-missing-community";

    /// <summary>Microsoft peering without a route filter: nothing is advertised.</summary>
    public const string NoRouteFilter = "route-filter-missing";

    /// <summary>A route filter with other than exactly one Allow rule.</summary>
    public const string RouteFilterRules = "route-filter-rules";

    /// <summary>A circuit without Microsoft peering, the only peering the platform's traffic uses.</summary>
    public const string NoMicrosoftPeering = "microsoft-peering-missing";

    /// <summary>The circuit's SKU cannot reach a datacenter of the geography.</summary>
    public const string SkuReach = "circuit-sku-reach";

    /// <summary>A gateway cluster serves an environment of another region.</summary>
    public const string GatewayRegion = "gateway-region-mismatch";

    /// <summary>On-premises data used without a gateway.</summary>
    public const string OnPremisesWithoutGateway = "on-premises-without-gateway";

    /// <summary>Private connectivity between the platform and Azure services cannot be had.</summary>
    public const string AzureServicesNotPrivate = "azure-services-not-over-expressroute";

    /// <summary>CDN static content always uses the internet.</summary>
    public const string CdnNotPrivate = "cdn-not-over-expressroute";

    /// <summary>Third-party connector backends are reached over the internet.</summary>
    public const string ThirdPartyNotPrivate = "third-party-connector-not-over-expressroute";

    /// <summary>Canvas apps with CDN used from sites without internet breakout.</summary>
    public const string CanvasCdnWithoutBreakout = "canvas-cdn-without-breakout";

    /// <summary>Microsoft 365 communities need authorization from Microsoft.</summary>
    public const string Microsoft365Authorization = "microsoft-365-needs-authorization";

    /// <summary>Private (RFC 1918) advertised prefixes are rejected.</summary>
    public const string PrivatePrefix = "prefix-private";

    /// <summary>The default route is not accepted.</summary>
    public const string DefaultRoutePrefix = "prefix-default-route";

    /// <summary>More than 200 advertised prefixes.</summary>
    public const string TooManyPrefixes = "prefix-limit";

    /// <summary>Microsoft peering that advertises no public prefix.</summary>
    public const string NoPrefixes = "prefix-none";

    /// <summary>A sovereign geography needs its own cloud's ExpressRoute.</summary>
    public const string SovereignCloud = "sovereign-cloud";

    /// <summary>A site with one circuit: a single point of failure.</summary>
    public const string SingleCircuit = "single-circuit";

    /// <summary>A site with traffic and no circuit: everything uses the internet.</summary>
    public const string NoCircuit = "no-circuit";

    /// <summary>A geography whose datacenter or community is not confirmed by public documentation.</summary>
    public const string UnverifiedCommunity = "unverified-community";

    /// <summary>Sign-in (Entra ID, 12076:5060) is not in the filter and uses the internet.</summary>
    public const string SignInNotInFilter = "sign-in-not-in-filter";

    /// <summary>Flows with no path.</summary>
    public const string Unreachable = "flow-unreachable";

    /// <summary>A peering location the planner's data does not know.</summary>
    public const string UnknownPeeringLocation = "unknown-peering-location";

    /// <summary>Gateway members or machines at a site that does not declare that traffic.</summary>
    public const string UndeclaredTraffic = "site-traffic-undeclared";
}
