namespace Causeway.Network.Tests;

/// <summary>Bad files give one clear error with the file position.</summary>
public sealed class BadInputTests
{
    [Fact]
    public void Load_MalformedCommunity_PointsAtTheValue()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\", \"12076:5x\"")));

        Assert.Contains("'12076:5x' is not a BGP community", error.Message, StringComparison.Ordinal);
        Assert.Equal("network.yaml", error.Position!.File);
        Assert.Equal(21, error.Position.Line);
        Assert.Equal(42, error.Position.Column);
        Assert.StartsWith("network.yaml(21,42): ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownGeography_NamesTheKnownOnes()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Inventory("environments:\n  - {name: e, geography: atlantis}"));

        Assert.Contains("unknown geography 'atlantis'", error.Message, StringComparison.Ordinal);
        Assert.Contains("europe", error.Message, StringComparison.Ordinal);
        Assert.Equal((2, 5), (error.Position!.Line, error.Position.Column));
    }

    [Fact]
    public void Load_OverlappingSitePrefixes_IsAnError()
    {
        var network = """
            sites:
              - {name: a, traffic: [users], publicPrefixes: [203.0.113.0/28]}
              - {name: b, traffic: [users], publicPrefixes: [203.0.113.8/29]}
            """;

        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network(network));
        Assert.Contains("overlaps 203.0.113.0/28 of site 'a'", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Position!.Line);
    }

    [Fact]
    public void Load_OverlappingAdvertisedPrefixes_IsAnError()
    {
        var network = TestNetworks.OneCircuit("\"12076:51002\"").Replace("advertisedPublicPrefixes: [203.0.113.0/29]", "advertisedPublicPrefixes: [203.0.113.0/29, 203.0.113.4/30]", StringComparison.Ordinal);

        Assert.Contains("overlaps", Assert.Throws<NetworkFileException>(() => TestNetworks.Network(network)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PrivateSitePrefix_IsAnError()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network("sites: [{name: a, traffic: [users], publicPrefixes: [10.0.0.0/24]}]"));

        Assert.Contains("private (RFC 1918)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("203.0.113.1/29", "host bits set")]
    [InlineData("203.0.113/29", "not an IPv4 prefix")]
    [InlineData("203.0.113.0/33", "not an IPv4 prefix")]
    public void Load_MalformedPrefix_PointsAtIt(string prefix, string expected)
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network($"sites:\n  - name: a\n    publicPrefixes: [{prefix}]"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal((3, 22), (error.Position!.Line, error.Position.Column));
    }

    [Fact]
    public void Load_CircuitAtUnknownSite_IsAnError()
    {
        var network = TestNetworks.OneCircuit("\"12076:51002\"").Replace("site: hq", "site: hx", StringComparison.Ordinal);

        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network(network));
        Assert.Contains("unknown site 'hx'", error.Message, StringComparison.Ordinal);
        Assert.Equal(7, error.Position!.Line);
    }

    [Fact]
    public void Plan_MachineAtUnknownSite_PointsIntoTheInventory()
    {
        var inventory = "environments: [{name: e, geography: europe}]\nmachines:\n  - {name: m, environment: e, site: nowhere}";

        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Plan(TestNetworks.OneCircuit("\"12076:51002\""), inventory));
        Assert.Contains("unknown site 'nowhere'", error.Message, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition("inventory.yaml", 3, 5), error.Position);
    }

    [Fact]
    public void Load_UnknownEnvironmentReference_IsAnError()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Inventory("apps: [{name: a, environment: nope, kind: canvas}]"));

        Assert.Contains("unknown environment 'nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownProperty_ListsTheExpectedOnes()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network("sites:\n  - name: a\n    trafic: [users]"));

        Assert.Contains("unknown property 'trafic' in a site", error.Message, StringComparison.Ordinal);
        Assert.Contains("traffic", error.Reason, StringComparison.Ordinal);
        Assert.Equal((3, 5), (error.Position!.Line, error.Position.Column));
    }

    [Theory]
    [InlineData("sites: {name: a}", "'sites' of the network file must be a list")]
    [InlineData("circuits: []", "the network file needs 'sites'")]
    [InlineData("- a\n- b", "the network file must be a mapping")]
    [InlineData("sites: [{name: a, internetBreakout: maybe}]", "must be true or false")]
    [InlineData("sites: [{name: a, traffic: [bots]}]", "unknown traffic kind 'bots'")]
    public void Load_SchemaMismatch_SaysWhat(string yaml, string expected)
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network(yaml));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Position);
    }

    [Fact]
    public void Load_WrongSku_ListsTheTiers()
    {
        var network = TestNetworks.OneCircuit("\"12076:51002\"", sku: "Gold");

        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network(network));
        Assert.Contains("must be one of Local, Standard, Premium", error.Message, StringComparison.Ordinal);
        Assert.Equal(11, error.Position!.Line);
    }

    [Fact]
    public void Load_BadBandwidth_ListsTheOfferedOnes()
    {
        var network = TestNetworks.OneCircuit("\"12076:51002\"").Replace("bandwidthMbps: 1000", "bandwidthMbps: 300", StringComparison.Ordinal);

        Assert.Contains("50, 100, 200, 500, 1000", Assert.Throws<NetworkFileException>(() => TestNetworks.Network(network)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_InvalidYaml_HasThePosition()
    {
        var error = Assert.Throws<NetworkFileException>(() => TestNetworks.Network("sites:\n  - name: [a\n"));

        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Position);
    }

    [Fact]
    public void Load_Json_ErrorsCarryLineAndColumn()
    {
        var json = "{\n  \"sites\": [\n    {\"name\": \"a\", \"traffic\": [\"users\"], \"publicPrefixes\": [\"203.0.113.0/29\"]}\n  ],\n  \"circuits\": [{\"name\": 5}]\n}";

        var error = Assert.Throws<NetworkFileException>(() => NetworkDocument.Parse(json, DocumentFormat.Json, "network.json"));
        Assert.Contains("a circuit needs 'site'", error.Message, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition("network.json", 5, 16), error.Position);
    }

    [Fact]
    public void Load_MalformedJson_HasThePosition()
    {
        var error = Assert.Throws<NetworkFileException>(() => NetworkDocument.Parse("{\n  \"sites\": [,]\n}", DocumentFormat.Json, "network.json"));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Position!.Line);
    }

    [Fact]
    public void Load_Json_ReadsTheSameModelAsYaml()
    {
        var json = """
            {"sites": [{"name": "hq", "traffic": ["users"], "publicPrefixes": ["203.0.113.0/29"], "internetBreakout": true}],
             "circuits": [{"name": "er-1", "site": "hq", "peeringLocation": "Amsterdam", "region": "westeurope", "sku": "Standard", "bandwidthMbps": 1000,
               "microsoftPeering": {"customerAsn": 65010, "advertisedPublicPrefixes": ["203.0.113.0/29"],
                 "routeFilter": {"name": "rf-1", "rules": [{"access": "Allow", "communities": ["12076:51002"]}]}}}]}
            """;

        var fromJson = NetworkDocument.Parse(json, DocumentFormat.Json);
        var fromYaml = TestNetworks.Network(TestNetworks.OneCircuit("\"12076:51002\""));
        Assert.Equal(fromYaml.Circuits[0].MicrosoftPeering!.RouteFilter!.Rules[0].Communities, fromJson.Circuits[0].MicrosoftPeering!.RouteFilter!.Rules[0].Communities);
        Assert.Equal(fromYaml.Circuits[0].Sku, fromJson.Circuits[0].Sku);
        Assert.Equal(fromYaml.Sites[0].InternetBreakout, fromJson.Sites[0].InternetBreakout);
    }

    [Theory]
    [InlineData("  {\"sites\": []}", DocumentFormat.Json)]
    [InlineData("sites: []", DocumentFormat.Yaml)]
    public void Detect_Body_ChoosesTheReader(string text, DocumentFormat expected) => Assert.Equal(expected, DocumentFormats.Detect(text));

    [Fact]
    public void Validate_InMemoryDocument_ReportsWithoutPosition()
    {
        var network = new NetworkDocument([new Site("hq", [TrafficKind.Users], [], true)], [new Circuit("c", "nowhere", "Amsterdam", "westeurope", CircuitSku.Standard, 1000, null)]);

        var error = Assert.Throws<NetworkFileException>(() => Planner.Plan(network, Inventory.Empty));
        Assert.Null(error.Position);
        Assert.Contains("unknown site 'nowhere'", error.Message, StringComparison.Ordinal);
    }
}
