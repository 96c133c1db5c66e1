using Causeway.Topology;

namespace Causeway.Network;

/// <summary>Checks the network against the inventory and the platform's rules; one finding per problem and object.</summary>
internal sealed class FindingBuilder(PlanModel model, IReadOnlyList<Flow> flows)
{
    private readonly List<Finding> _findings = [];

    public List<Finding> Build()
    {
        foreach (var circuit in model.Network.Circuits)
        {
            CheckCircuit(circuit);
        }

        foreach (var site in model.Network.Sites)
        {
            CheckSite(site);
        }

        CheckGateways();
        CheckCanvasCdn();
        CheckExpectations();
        CheckUnverified();
        CheckUnreachable();

        // Errors first, then warnings, then information; stable inside each severity.
        return _findings.Select((f, i) => (f, i)).OrderBy(x => x.f.Severity).ThenBy(x => x.i).Select(x => x.f).ToList();
    }

    private void Add(string code, Severity severity, string message, string fix, IReadOnlyList<string> objects, IReadOnlyList<string>? communities = null) =>
        _findings.Add(new Finding(code, severity, message, fix, objects, communities ?? []));

    private static string At(SourcePosition? position) => position is null ? "" : $" ({position})";

    private void CheckCircuit(Circuit circuit)
    {
        string[] objects = [$"circuit:{circuit.Name}", $"site:{circuit.Site}"];
        if (model.Facts.AreaOfLocation(circuit.Cloud, circuit.PeeringLocation) is null && !model.Facts.IsKnownLocation(circuit.PeeringLocation))
        {
            Add(FindingCodes.UnknownPeeringLocation, Severity.Warning,
                $"Peering location '{circuit.PeeringLocation}' of circuit {circuit.Name}{At(circuit.Position)} is not in the planner's data; SKU reach is judged from region {circuit.Region}.",
                "Check the spelling against the ExpressRoute locations page (for example 'Amsterdam', 'Washington DC').", objects);
        }

        var peering = circuit.MicrosoftPeering;
        if (peering is null)
        {
            Add(FindingCodes.NoMicrosoftPeering, Severity.Error,
                $"Circuit {circuit.Name}{At(circuit.Position)} has no Microsoft peering; Power Platform traffic uses Microsoft peering, not private peering.",
                $"Configure Microsoft peering on {circuit.Name} with your public prefixes and a route filter (see the artifacts).", objects);
            return;
        }

        CheckPrefixes(circuit, peering, objects);
        var filter = peering.RouteFilter;
        if (filter is null)
        {
            Add(FindingCodes.NoRouteFilter, Severity.Error,
                $"Microsoft peering of {circuit.Name}{At(circuit.Position)} has no route filter, so Microsoft advertises no prefixes over it and every flow uses another path.",
                $"Create a route filter with one Allow rule and attach it to the Microsoft peering of {circuit.Name} (see the artifacts).", objects);
        }
        else if (filter.Rules.Count != 1 || filter.Rules[0].Access != RouteFilterAccess.Allow)
        {
            Add(FindingCodes.RouteFilterRules, Severity.Error,
                $"Route filter {filter.Name} of {circuit.Name}{At(circuit.Position)} has {filter.Rules.Count} rule(s) ({string.Join(", ", filter.Rules.Select(r => r.Access))}); ExpressRoute route filters take exactly one rule, of access Allow.",
                $"Replace the rules of {filter.Name} with one Allow rule holding every needed community (see the artifacts).",
                [.. objects, $"routeFilter:{filter.Name}"], filter.Rules.SelectMany(r => r.Communities).Distinct().ToArray());
        }

        if (filter is not null)
        {
            var needsAuthorization = model.Catalog.ServiceCommunities
                .Where(s => s.NeedsAuthorization && model.Allowed[circuit.Name].Contains(s.Community)).ToArray();
            if (needsAuthorization.Length > 0)
            {
                Add(FindingCodes.Microsoft365Authorization, Severity.Warning,
                    $"Route filter {filter.Name} of {circuit.Name} allows Microsoft 365 communities ({string.Join(", ", needsAuthorization.Select(s => $"{s.Name} {s.Community}"))}); Microsoft advertises them only to authorized customers.",
                    "Get authorization from Microsoft for Microsoft 365 over ExpressRoute, or remove these communities from the filter.",
                    [.. objects, $"routeFilter:{filter.Name}"], needsAuthorization.Select(s => s.Community).ToArray());
            }
        }

        var site = model.Sites[circuit.Site];
        var allowed = model.Allowed[circuit.Name];
        foreach (var geography in model.GeographiesNeededBy(site))
        {
            CheckGeography(circuit, geography, allowed, filter, objects);
        }
    }

    private void CheckPrefixes(Circuit circuit, MicrosoftPeering peering, string[] objects)
    {
        var prefixes = peering.AdvertisedPublicPrefixes.Select(p => (Text: p, Prefix: Ipv4Prefix.TryParse(p, out var x, out _) ? x : default)).ToArray();
        var isPrivate = prefixes.Where(p => p.Prefix.IsPrivate).Select(p => p.Text).ToArray();
        if (isPrivate.Length > 0)
        {
            Add(FindingCodes.PrivatePrefix, Severity.Error,
                $"Microsoft peering of {circuit.Name}{At(circuit.Position)} advertises private (RFC 1918) prefixes {string.Join(", ", isPrivate)}; Microsoft peering accepts only public prefixes you own.",
                "Advertise public IPv4 prefixes registered to you (a /29, or two /30s), and NAT the site's traffic to them.", [.. objects, .. isPrivate.Select(p => $"prefix:{p}")]);
        }

        var defaults = prefixes.Where(p => p.Prefix.IsDefault).Select(p => p.Text).ToArray();
        if (defaults.Length > 0)
        {
            Add(FindingCodes.DefaultRoutePrefix, Severity.Error,
                $"Microsoft peering of {circuit.Name}{At(circuit.Position)} advertises the default route; Microsoft peering does not accept it.",
                "Advertise only the public prefixes the site's traffic is NATed to.", objects);
        }

        if (prefixes.Length > model.Facts.MaxPrefixesPerSession)
        {
            Add(FindingCodes.TooManyPrefixes, Severity.Error,
                $"Microsoft peering of {circuit.Name}{At(circuit.Position)} advertises {prefixes.Length} prefixes; a BGP session accepts at most {model.Facts.MaxPrefixesPerSession}, beyond that the session drops.",
                $"Summarize the advertised prefixes to {model.Facts.MaxPrefixesPerSession} or fewer.", objects);
        }

        if (prefixes.Length == 0)
        {
            Add(FindingCodes.NoPrefixes, Severity.Error,
                $"Microsoft peering of {circuit.Name}{At(circuit.Position)} advertises no public prefix, so return traffic cannot come back over the circuit.",
                "Advertise the public IPv4 prefixes the site's traffic is NATed to (a /29, or two /30s).", objects);
        }
    }

    private void CheckGeography(Circuit circuit, Geography geography, HashSet<string> allowed, RouteFilter? filter, string[] objects)
    {
        var missing = geography.Datacenters.Where(d => d.BgpCommunity is not null && !allowed.Contains(d.BgpCommunity)).ToArray();
        if (filter is not null && missing.Length > 0)
        {
            var present = geography.Datacenters.Except(missing).ToArray();
            var consequence = missing.Length == geography.Datacenters.Count
                ? $"none of {geography.Name}'s traffic can ride {circuit.Name}"
                : $"traffic to {present[0].Name} rides the circuit but failover traffic to {missing[0].Name} leaves it";
            var unverified = missing.Any(d => d.Unverified) ? " (a value marked UNVERIFIED in the catalog)" : "";
            Add(FindingCodes.MissingCommunity, Severity.Error,
                $"Route filter {filter.Name} of {circuit.Name} lacks {string.Join(" and ", missing.Select(d => $"{d.BgpCommunity} ({d.Name})"))}{unverified}: both regional communities of {geography.Name} are needed because both datacenters of the pair serve its environments; {consequence}.",
                $"Add {string.Join(" and ", missing.Select(d => d.BgpCommunity))} to the Allow rule of {filter.Name} (see the artifacts).",
                [.. objects, $"routeFilter:{filter.Name}", $"geography:{geography.Id}"], missing.Select(d => d.BgpCommunity!).ToArray());
        }

        if (geography.Sovereign != (circuit.Cloud == AzureCloud.UsGov))
        {
            Add(FindingCodes.SovereignCloud, Severity.Error,
                geography.Sovereign
                    ? $"{geography.Name} is a sovereign cloud; circuit {circuit.Name} is in the Azure public cloud and cannot reach it."
                    : $"Circuit {circuit.Name} is an Azure Government circuit and cannot reach {geography.Name} in the public cloud.",
                geography.Sovereign
                    ? $"Order an Azure Government ExpressRoute circuit (cloud: UsGov) for {geography.Name} traffic."
                    : $"Use an Azure public cloud circuit for {geography.Name}.",
                [.. objects, $"geography:{geography.Id}"], geography.BgpCommunities.ToArray());
            return;
        }

        var unreachable = geography.Datacenters.Select(d => (d, Problem: model.ReachProblem(circuit, geography, d))).Where(x => x.Problem is not null).ToArray();
        if (unreachable.Length > 0)
        {
            var fix = circuit.Sku == CircuitSku.Local && unreachable.All(x => model.AreaOf(circuit)?.Regions.Contains(x.d.Id, StringComparer.OrdinalIgnoreCase) == true)
                ? $"Upgrade {circuit.Name} to Standard (the datacenters are in its geopolitical area), or to Premium."
                : $"Upgrade {circuit.Name} to Premium, or add a circuit at a peering location in {geography.Name}'s geopolitical area.";
            Add(FindingCodes.SkuReach, Severity.Error,
                $"{circuit.Sku} circuit {circuit.Name} at {circuit.PeeringLocation} cannot reach {string.Join(" and ", unreachable.Select(x => x.d.Id))} of {geography.Name}: {string.Join("; ", unreachable.Select(x => x.Problem))}.",
                fix, [.. objects, $"geography:{geography.Id}"], unreachable.Select(x => x.d.BgpCommunity).OfType<string>().ToArray());
        }
    }

    private void CheckSite(Site site)
    {
        if (!model.OriginatesTraffic(site))
        {
            return;
        }

        var circuits = model.CircuitsBySite[site.Name];
        if (circuits.Count == 0)
        {
            Add(FindingCodes.NoCircuit, Severity.Info,
                $"Site {site.Name} has no ExpressRoute circuit; all of its platform traffic uses the {(site.InternetBreakout ? "public internet" : "internet, which it cannot reach")}.",
                "Add a circuit to carry the site's traffic privately, if that is the intent.", [$"site:{site.Name}"]);
        }
        else if (circuits.Count == 1)
        {
            Add(FindingCodes.SingleCircuit, Severity.Warning,
                $"Site {site.Name} has a single circuit ({circuits[0].Name}): a single point of failure{(site.InternetBreakout ? "; on failure its traffic falls back to the internet" : "; on failure its traffic has no path")}.",
                $"Add a second circuit at another peering location for {site.Name}, with the same route filter communities.", [$"site:{site.Name}", $"circuit:{circuits[0].Name}"]);
        }

        if (site.Traffic.Contains(TrafficKind.Users) && circuits.Count > 0
            && !circuits.Any(c => model.Allowed[c.Name].Contains(Planner.EntraId)))
        {
            Add(FindingCodes.SignInNotInFilter, Severity.Info,
                $"No circuit of site {site.Name} allows {Planner.EntraId} (Microsoft Entra ID), so sign-in uses the {(site.InternetBreakout ? "internet" : "internet, which the site cannot reach")}.",
                $"Add {Planner.EntraId} to the route filter if sign-in must ride the circuit.",
                [$"site:{site.Name}", .. circuits.Select(c => $"circuit:{c.Name}")], [Planner.EntraId]);
        }

        var undeclared = new List<string>();
        if (model.MembersBySite.ContainsKey(site.Name) && !site.Traffic.Contains(TrafficKind.Gateways))
        {
            undeclared.Add("gateways");
        }

        if (model.MachinesBySite.ContainsKey(site.Name) && !site.Traffic.Contains(TrafficKind.Machines))
        {
            undeclared.Add("machines");
        }

        if (undeclared.Count > 0)
        {
            Add(FindingCodes.UndeclaredTraffic, Severity.Warning,
                $"The inventory places {string.Join(" and ", undeclared)} at site {site.Name}{At(site.Position)}, but the site does not declare that traffic; the plan includes it anyway.",
                $"Add {string.Join(", ", undeclared)} to the traffic of site {site.Name}.", [$"site:{site.Name}"]);
        }
    }

    private void CheckGateways()
    {
        var reported = new HashSet<(string, string)>();
        foreach (var connection in model.Inventory.Connections)
        {
            if (connection.Gateway is { } name)
            {
                var gateway = model.GatewaysByName[name];
                var (geography, _) = model.BusOf(gateway);
                var environment = model.EnvironmentsByName[connection.Environment];
                if (!string.Equals(geography.Id, environment.Geography, StringComparison.OrdinalIgnoreCase) && reported.Add((name, environment.Name)))
                {
                    Add(FindingCodes.GatewayRegion, Severity.Error,
                        $"Gateway cluster {name} is registered in {geography.Id} but serves environment {environment.Name} in {environment.Geography}{At(connection.Position)}; a gateway must be in the same region as the environments that use it.",
                        $"Register a gateway cluster in region {environment.Geography} for {environment.Name}, and point its connections to it.",
                        [$"gateway:{name}", $"environment:{environment.Name}"]);
                }
            }
            else if (connection.OnPremises)
            {
                Add(FindingCodes.OnPremisesWithoutGateway, Severity.Error,
                    $"Connection {connection.Connector} of {connection.Environment}{At(connection.Position)} reaches on-premises data without a gateway; ExpressRoute does not remove the gateway, which also converts the protocol (for example OData requests to SQL statements).",
                    $"Install an on-premises data gateway in region {model.EnvironmentsByName[connection.Environment].Geography} and bind the connection to it.",
                    [$"connection:{connection.Environment}/{connection.Connector}", $"environment:{connection.Environment}"]);
            }
        }
    }

    private void CheckCanvasCdn()
    {
        var blocked = model.Network.Sites.Where(s => s.Traffic.Contains(TrafficKind.Users) && !s.InternetBreakout).Select(s => s.Name).ToArray();
        if (blocked.Length == 0)
        {
            return;
        }

        // One finding for all such environments: one per environment times every site would grow with their product.
        var environments = model.CdnCanvasEnvironments;
        if (environments.Count > 0)
        {
            Add(FindingCodes.CanvasCdnWithoutBreakout, Severity.Error,
                $"Canvas apps of {List(environments, "environment")} load static content from the CDN, which is only reachable over the internet, and {List(blocked, "site")} {(blocked.Length == 1 ? "has" : "have")} no internet breakout: the apps will fail to load there. Model-driven apps are unaffected (they do not use the CDN).",
                $"Turn off 'Load default static content from Content Delivery Network' in the behavior settings of {List(environments, "environment")} (or give the sites internet breakout).",
                [.. environments.Select(e => $"environment:{e}"), .. blocked.Select(s => $"site:{s}")]);
        }
    }

    private static string List(IReadOnlyList<string> names, string noun) =>
        $"{noun}{(names.Count == 1 ? "" : "s")} {string.Join(", ", names.Take(5))}{(names.Count > 5 ? $" and {names.Count - 5} more" : "")}";

    private void CheckExpectations()
    {
        if (model.Groups.Count > 0)
        {
            Add(FindingCodes.AzureServicesNotPrivate, Severity.Info,
                "Traffic between the platform and Azure services cannot use ExpressRoute: the platform runs on shared infrastructure inside Microsoft's cloud, and ExpressRoute only connects your network to the edge of Microsoft's datacenter.",
                "Nothing to configure; this traffic stays on Microsoft's backbone.", model.Groups.Select(g => $"geography:{g.Geography.Id}").Distinct().ToArray());
        }

        var cdn = model.CdnCanvasEnvironments;
        if (cdn.Count > 0)
        {
            Add(FindingCodes.CdnNotPrivate, Severity.Info,
                "CDN static content (images, icons, player scripts) cannot ride ExpressRoute; it goes over the public internet. It holds no customer data, so it need not be protected by a private network.",
                "Allow the CDN host through the firewall, or turn off the CDN setting for canvas apps of these environments.", cdn.Take(20).Select(e => $"environment:{e}").ToArray());
        }

        var thirdParty = model.Inventory.Connections.Where(c => c.ThirdParty).Select(c => c.Connector).Distinct(StringComparer.Ordinal).ToArray();
        if (thirdParty.Length > 0)
        {
            Add(FindingCodes.ThirdPartyNotPrivate, Severity.Info,
                $"Connectors to non-Microsoft services ({string.Join(", ", thirdParty.Take(10))}) reach their backends over the public internet from the platform's API-management layer; ExpressRoute does not carry them.",
                "Nothing to configure on the circuit; protect those services at their own edge.", thirdParty.Select(c => $"connector:{c}").ToArray());
        }
    }

    private void CheckUnverified()
    {
        var used = model.Network.Sites.SelectMany(model.GeographiesNeededBy).ToHashSet();
        foreach (var geography in model.Catalog.Geographies.Where(used.Contains))
        {
            var doubtful = geography.Datacenters.Where(d => d.Unverified || d.BgpCommunity is null).ToArray();
            if (doubtful.Length > 0)
            {
                Add(FindingCodes.UnverifiedCommunity, Severity.Warning,
                    $"The catalog marks {string.Join(", ", doubtful.Select(d => $"{d.Id} ({d.BgpCommunity ?? "no community"})"))} of {geography.Name} as UNVERIFIED: public documentation does not confirm it.",
                    $"Confirm {geography.Name}'s datacenter pair and regional communities with Microsoft before relying on the route filter.",
                    [$"geography:{geography.Id}"], doubtful.Select(d => d.BgpCommunity).OfType<string>().ToArray());
            }
        }
    }

    private void CheckUnreachable()
    {
        foreach (var group in flows.Where(f => f.Path == FlowPath.Unreachable && f.Site is not null).GroupBy(f => f.Site!))
        {
            var list = group.ToArray();
            Add(FindingCodes.Unreachable, Severity.Error,
                $"{list.Length} flow(s) from site {group.Key} have no path, for example {list[0].From} -> {list[0].To}: {list[0].Reason}.",
                "Allow the missing communities on a circuit of the site, or give the site internet breakout for traffic that cannot ride ExpressRoute.",
                [$"site:{group.Key}"],
                list.Select(f => f.Datacenter is null ? null : model.Catalog.FindDatacenter(f.Datacenter)?.BgpCommunity).OfType<string>().Distinct().ToArray());
        }
    }
}
