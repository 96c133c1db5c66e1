namespace Causeway.Network;

/// <summary>Maps parsed files to the model. The property names here are the ones docs/network.schema.json publishes.</summary>
internal static class DocumentReader
{
    public static NetworkDocument ReadNetwork(SourceNode root)
    {
        var file = new MapReader(root, "the network file", "$schema", "sites", "circuits");
        var sites = file.List("sites", required: true).Select(ReadSite).ToArray();
        var circuits = file.List("circuits").Select(ReadCircuit).ToArray();
        return new NetworkDocument(sites, circuits);
    }

    public static Inventory ReadInventory(SourceNode root)
    {
        var file = new MapReader(root, "the inventory file", "$schema", "environments", "gateways", "machines", "connections", "apps", "endpoints");
        return new Inventory(
            file.List("environments").Select(ReadEnvironment).ToArray(),
            file.List("gateways").Select(ReadGateway).ToArray(),
            file.List("machines").Select(ReadMachine).ToArray(),
            file.List("connections").Select(ReadConnection).ToArray(),
            file.List("apps").Select(ReadApp).ToArray())
        {
            Endpoints = file.List("endpoints").Select(ReadEndpoints).ToArray(),
        };
    }

    private static Site ReadSite(SourceNode node)
    {
        var map = new MapReader(node, "a site", "name", "traffic", "publicPrefixes", "internetBreakout");
        var name = map.RequiredString("name");
        var traffic = map.StringList("traffic").Select(t => ParseTraffic(t.Value, t.Position)).Distinct().ToArray();
        var prefixes = map.StringList("publicPrefixes");
        foreach (var (value, position) in prefixes)
        {
            CheckPrefix(value, position);
        }

        return new Site(name, traffic, prefixes.Select(p => p.Value).ToArray(), map.OptionalBool("internetBreakout") ?? false) { Position = map.Position };
    }

    private static TrafficKind ParseTraffic(string text, SourcePosition position) => text.ToLowerInvariant() switch
    {
        "users" => TrafficKind.Users,
        "gateways" or "gateway" or "gatewaymembers" => TrafficKind.Gateways,
        "machines" or "machine" or "desktopmachines" => TrafficKind.Machines,
        _ => throw new NetworkFileException($"unknown traffic kind '{text}' (expected users, gateways or machines)", position),
    };

    private static Circuit ReadCircuit(SourceNode node)
    {
        var map = new MapReader(node, "a circuit", "name", "site", "peeringLocation", "region", "sku", "bandwidthMbps", "provider", "cloud", "resourceGroup", "microsoftPeering");
        var peeringNode = map.Get("microsoftPeering");
        return new Circuit(
            map.RequiredString("name"),
            map.RequiredString("site"),
            map.RequiredString("peeringLocation"),
            map.RequiredString("region").ToLowerInvariant(),
            map.Enum("sku", CircuitSku.Standard),
            (int)(map.OptionalInteger("bandwidthMbps", 1, 100_000) ?? throw new NetworkFileException("a circuit needs 'bandwidthMbps'", map.Position)),
            peeringNode is null || peeringNode.Kind == SourceNodeKind.Scalar && peeringNode.Scalar is null ? null : ReadPeering(peeringNode))
        {
            Provider = map.OptionalString("provider"),
            Cloud = map.Enum("cloud", AzureCloud.Public),
            ResourceGroup = map.OptionalString("resourceGroup"),
            Position = map.Position,
        };
    }

    private static MicrosoftPeering ReadPeering(SourceNode node)
    {
        var map = new MapReader(node, "microsoftPeering", "customerAsn", "advertisedPublicPrefixes", "routeFilter", "vlanId", "primaryPeerAddressPrefix", "secondaryPeerAddressPrefix");
        var prefixes = map.StringList("advertisedPublicPrefixes");
        foreach (var (value, position) in prefixes)
        {
            CheckPrefix(value, position);
        }

        var filterNode = map.Get("routeFilter");
        return new MicrosoftPeering(
            map.OptionalInteger("customerAsn", 1, uint.MaxValue) ?? throw new NetworkFileException("microsoftPeering needs 'customerAsn'", map.Position),
            prefixes.Select(p => p.Value).ToArray(),
            filterNode is null || filterNode.Kind == SourceNodeKind.Scalar && filterNode.Scalar is null ? null : ReadRouteFilter(filterNode))
        {
            VlanId = (int?)map.OptionalInteger("vlanId", 1, 4094),
            PrimaryPeerAddressPrefix = map.OptionalString("primaryPeerAddressPrefix"),
            SecondaryPeerAddressPrefix = map.OptionalString("secondaryPeerAddressPrefix"),
        };
    }

    private static RouteFilter ReadRouteFilter(SourceNode node)
    {
        var map = new MapReader(node, "a route filter", "name", "rules");
        var rules = map.List("rules").Select(ruleNode =>
        {
            var rule = new MapReader(ruleNode, "a route filter rule", "name", "access", "communities");
            var communities = rule.StringList("communities");
            foreach (var (value, position) in communities)
            {
                if (!Community.IsWellFormed(value))
                {
                    throw new NetworkFileException($"'{value}' is not a BGP community (expected ASN:value, for example 12076:51002)", position);
                }
            }

            return new RouteFilterRule(rule.Enum("access", RouteFilterAccess.Allow), communities.Select(c => c.Value).ToArray()) { Name = rule.OptionalString("name") };
        }).ToArray();
        return new RouteFilter(map.RequiredString("name"), rules);
    }

    private static void CheckPrefix(string text, SourcePosition position)
    {
        if (!Ipv4Prefix.TryParse(text, out _, out var error))
        {
            throw new NetworkFileException(error!, position);
        }
    }

    private static PlatformEnvironment ReadEnvironment(SourceNode node)
    {
        var map = new MapReader(node, "an environment", "name", "geography", "type", "cdn", "primaryDatacenter");
        return new PlatformEnvironment(map.RequiredString("name"), map.RequiredString("geography"), map.OptionalString("type") ?? "production", map.OptionalBool("cdn") ?? true)
        {
            PrimaryDatacenter = map.OptionalString("primaryDatacenter"),
            Position = map.Position,
        };
    }

    private static GatewayCluster ReadGateway(SourceNode node)
    {
        var map = new MapReader(node, "a gateway cluster", "name", "region", "members");
        var members = map.List("members").Select(m =>
        {
            var member = new MapReader(m, "a gateway member", "name", "site");
            return new GatewayMember(member.RequiredString("name"), member.RequiredString("site")) { Position = member.Position };
        }).ToArray();
        return new GatewayCluster(map.RequiredString("name"), map.RequiredString("region"), members) { Position = map.Position };
    }

    private static DesktopMachine ReadMachine(SourceNode node)
    {
        var map = new MapReader(node, "a machine", "name", "environment", "site");
        return new DesktopMachine(map.RequiredString("name"), map.RequiredString("environment"), map.RequiredString("site")) { Position = map.Position };
    }

    private static Connection ReadConnection(SourceNode node)
    {
        var map = new MapReader(node, "a connection", "environment", "connector", "thirdParty", "gateway", "onPremises");
        var gateway = map.OptionalString("gateway");
        return new Connection(map.RequiredString("environment"), map.RequiredString("connector"), map.OptionalBool("thirdParty") ?? false, gateway)
        {
            OnPremises = map.OptionalBool("onPremises") ?? gateway is not null,
            Position = map.Position,
        };
    }

    private static App ReadApp(SourceNode node)
    {
        var map = new MapReader(node, "an app", "name", "environment", "kind");
        var kindText = map.RequiredString("kind");
        var kind = kindText.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "canvas" => AppKind.Canvas,
            "modeldriven" => AppKind.ModelDriven,
            _ => throw new NetworkFileException($"app kind must be canvas or model-driven, not '{kindText}'", map.Get("kind")!.Position),
        };
        return new App(map.RequiredString("name"), map.RequiredString("environment"), kind) { Position = map.Position };
    }

    private static PlatformEndpoints ReadEndpoints(SourceNode node)
    {
        var map = new MapReader(node, "datacenter endpoints", "datacenter", "api", "relay", "bus", "staticContent");
        return new PlatformEndpoints(map.RequiredString("datacenter"))
        {
            Api = map.OptionalString("api"),
            Relay = map.OptionalString("relay"),
            Bus = map.OptionalString("bus"),
            StaticContent = map.OptionalString("staticContent"),
        };
    }
}
