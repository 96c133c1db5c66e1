using Causeway.Topology;

namespace Causeway.Network;

/// <summary>Enumerates every flow and gives it a path. Routes are computed once per (site, datacenter) and reused.</summary>
internal sealed class FlowBuilder
{
    private const string SeedCdn = "CDN static content cannot be routed over ExpressRoute; it carries no customer data and goes over the public internet";

    private readonly PlanModel _model;
    private readonly HashSet<string> _failedDatacenters;
    private readonly HashSet<string> _failedCircuits;
    private readonly Dictionary<(string Site, string Target), Route> _routes = [];
    private readonly List<Flow> _flows = [];

    public FlowBuilder(PlanModel model, WhatIf whatIf)
    {
        _model = model;
        _failedDatacenters = whatIf.FailedDatacenters.ToHashSet(StringComparer.OrdinalIgnoreCase);
        _failedCircuits = whatIf.FailedCircuits.ToHashSet(StringComparer.Ordinal);
    }

    public List<Flow> Build()
    {
        foreach (var site in _model.Network.Sites)
        {
            AddSiteFlows(site);
        }

        AddPlatformFlows();
        return _flows;
    }

    private void AddSiteFlows(Site site)
    {
        if (site.Traffic.Contains(TrafficKind.Users))
        {
            var from = $"{site.Name}/users";
            foreach (var group in _model.Groups)
            {
                AddUserFlow(site, from, group, group.Primary, "primary");
                AddUserFlow(site, from, group, group.Secondary, "secondary");
            }

            var cdn = _model.CdnCanvasEnvironments;
            if (cdn.Count > 0)
            {
                _flows.Add(new Flow(
                    from, "static content (CDN)", site.InternetBreakout ? FlowPath.Internet : FlowPath.Unreachable, null, null,
                    site.InternetBreakout ? SeedCdn : $"{SeedCdn}; site {site.Name} has no internet breakout, so canvas apps of CDN-enabled environments fail to load it")
                {
                    Kind = FlowKind.StaticContent,
                    Site = site.Name,
                    Environments = cdn,
                    Key = $"{from}|cdn",
                });
            }
        }

        foreach (var (gateway, member) in _model.MembersBySite.GetValueOrDefault(site.Name) ?? [])
        {
            var (geography, bus) = _model.BusOf(gateway);
            var from = $"{site.Name}/gateway:{gateway.Name}/{member.Name}";
            AddFailoverFlow(site, from, $"bus {{0}} ({geography.Id})", geography, bus, FlowKind.Gateway, null, $"{from}|bus", "gateway member to the bus of its region");
        }

        foreach (var machine in _model.MachinesBySite.GetValueOrDefault(site.Name) ?? [])
        {
            var group = _model.GroupOf[machine.Environment];
            var from = $"{site.Name}/machine:{machine.Name}";
            AddFailoverFlow(site, from, $"relay {{0}} ({group.Geography.Id})", group.Geography, group.Primary, FlowKind.Machine, [machine.Environment], $"{from}|relay",
                $"desktop machine to the relay of environment {machine.Environment}'s region");
        }

        if (_model.OriginatesTraffic(site))
        {
            var route = RouteService(site);
            _flows.Add(new Flow($"{site.Name}/sign-in", "Microsoft Entra ID", route.Path, route.Circuit, route.Community, route.Reason)
            {
                Kind = FlowKind.SignIn,
                Site = site.Name,
                Key = $"{site.Name}|signin",
            });
        }
    }

    private void AddUserFlow(Site site, string from, EnvironmentGroup group, Datacenter datacenter, string role)
    {
        var route = _failedDatacenters.Contains(datacenter.Id)
            ? new Route(FlowPath.Unreachable, null, null, $"datacenter {datacenter.Id} failed (what-if); its environments fail over to the paired datacenter")
            : RouteTo(site, group.Geography, datacenter);
        _flows.Add(new Flow(from, $"{datacenter.Id} ({role}, {group.Geography.Id})", route.Path, route.Circuit, route.Community, route.Reason)
        {
            Kind = FlowKind.Users,
            Site = site.Name,
            Datacenter = datacenter.Id,
            Environments = group.Names,
            Key = $"{from}|{group.Geography.Id}|{group.Primary.Id}|{role}",
        });
    }

    /// <summary>Gateway and relay traffic follow the region to the paired datacenter when their datacenter fails.</summary>
    private void AddFailoverFlow(
        Site site, string from, string toFormat, Geography geography, Datacenter datacenter, FlowKind kind, IReadOnlyList<string>? environments, string key, string what)
    {
        var target = datacenter;
        var prefix = "";
        if (_failedDatacenters.Contains(datacenter.Id))
        {
            target = geography.Datacenters.First(d => d.Id != datacenter.Id);
            prefix = $"{datacenter.Id} failed (what-if), failed over to {target.Id}; ";
        }

        var route = _failedDatacenters.Contains(target.Id)
            ? new Route(FlowPath.Unreachable, null, null, $"both datacenters of {geography.Id} failed (what-if)")
            : RouteTo(site, geography, target);
        _flows.Add(new Flow(from, string.Format(System.Globalization.CultureInfo.InvariantCulture, toFormat, target.Id), route.Path, route.Circuit, route.Community, $"{what}: {prefix}{route.Reason}")
        {
            Kind = kind,
            Site = site.Name,
            Datacenter = target.Id,
            Environments = environments,
            Key = key,
        });
    }

    private void AddPlatformFlows()
    {
        foreach (var group in _model.Groups)
        {
            _flows.Add(new Flow(
                $"environments {group.Geography.Id}@{group.Primary.Id}", "Azure services", FlowPath.Backbone, null, null,
                "service-to-service traffic inside Microsoft's cloud never uses ExpressRoute, which only reaches the edge of the datacenter")
            {
                Kind = FlowKind.AzureServices,
                Datacenter = group.Primary.Id,
                Environments = group.Names,
                Key = $"azure|{group.Geography.Id}|{group.Primary.Id}",
            });
        }

        var seen = new HashSet<(string, string)>();
        foreach (var connection in _model.Inventory.Connections)
        {
            if (connection.Gateway is not null || connection.OnPremises || !seen.Add((connection.Environment, connection.Connector)))
            {
                continue;
            }

            var from = $"environment:{connection.Environment}";
            var datacenter = _model.GroupOf[connection.Environment].Primary.Id;
            _flows.Add(connection.ThirdParty
                ? new Flow(from, $"connector {connection.Connector} backend", FlowPath.Internet, null, null,
                    "connectors to non-Microsoft services leave the platform's API-management layer over the public internet")
                {
                    Kind = FlowKind.ThirdPartyConnector,
                    Datacenter = datacenter,
                    Environments = [connection.Environment],
                    Key = $"{from}|{connection.Connector}",
                }
                : new Flow(from, $"connector {connection.Connector} backend", FlowPath.Backbone, null, null,
                    "Microsoft connector backends are reached inside the Microsoft datacenter, never over the customer's circuit")
                {
                    Kind = FlowKind.FirstPartyConnector,
                    Datacenter = datacenter,
                    Environments = [connection.Environment],
                    Key = $"{from}|{connection.Connector}",
                });
        }
    }

    private Route RouteTo(Site site, Geography geography, Datacenter datacenter)
    {
        if (_routes.TryGetValue((site.Name, datacenter.Id), out var cached))
        {
            return cached;
        }

        var route = ComputeRoute(site, geography, datacenter);
        _routes[(site.Name, datacenter.Id)] = route;
        return route;
    }

    private Route ComputeRoute(Site site, Geography geography, Datacenter datacenter)
    {
        var why = new List<string>();
        var community = datacenter.BgpCommunity;
        foreach (var circuit in _model.CircuitsBySite[site.Name])
        {
            if (_failedCircuits.Contains(circuit.Name))
            {
                why.Add($"{circuit.Name} failed (what-if)");
            }
            else if (circuit.MicrosoftPeering is null)
            {
                why.Add($"{circuit.Name} has no Microsoft peering");
            }
            else if (circuit.MicrosoftPeering.RouteFilter is null)
            {
                why.Add($"{circuit.Name} has no route filter, so Microsoft advertises nothing");
            }
            else if (community is null)
            {
                why.Add($"{datacenter.Id} has no documented regional community (UNVERIFIED)");
            }
            else if (!_model.Allowed[circuit.Name].Contains(community))
            {
                why.Add($"{circuit.Name}'s route filter lacks {community} ({datacenter.Name})");
            }
            else if (_model.ReachProblem(circuit, geography, datacenter) is { } problem)
            {
                why.Add(problem);
            }
            else
            {
                var note = datacenter.Unverified ? " (community UNVERIFIED)" : "";
                return new Route(FlowPath.ExpressRoute, circuit.Name, community,
                    $"Microsoft peering of {circuit.Name} admits {community} ({datacenter.Name}){note}");
            }
        }

        return Fallback(site, why);
    }

    private Route RouteService(Site site)
    {
        var why = new List<string>();
        foreach (var circuit in _model.CircuitsBySite[site.Name])
        {
            if (_failedCircuits.Contains(circuit.Name))
            {
                why.Add($"{circuit.Name} failed (what-if)");
            }
            else if (circuit.MicrosoftPeering?.RouteFilter is null)
            {
                why.Add($"{circuit.Name} advertises nothing");
            }
            else if (!_model.Allowed[circuit.Name].Contains(Planner.EntraId))
            {
                why.Add($"{circuit.Name}'s route filter lacks {Planner.EntraId} (Microsoft Entra ID)");
            }
            else
            {
                return new Route(FlowPath.ExpressRoute, circuit.Name, Planner.EntraId, $"Microsoft peering of {circuit.Name} admits {Planner.EntraId} (Microsoft Entra ID)");
            }
        }

        return Fallback(site, why);
    }

    private static Route Fallback(Site site, List<string> why)
    {
        var because = why.Count == 0 ? $"site {site.Name} has no ExpressRoute circuit" : string.Join("; ", why);
        return site.InternetBreakout
            ? new Route(FlowPath.Internet, null, null, $"{because}; the site's internet breakout carries it")
            : new Route(FlowPath.Unreachable, null, null, $"{because}; and site {site.Name} has no internet breakout");
    }

    private sealed record Route(FlowPath Path, string? Circuit, string? Community, string Reason);
}
