namespace Causeway.Network.Tests;

/// <summary>Small network and inventory files the tests build on.</summary>
internal static class TestNetworks
{
    public static NetworkDocument Network(string yaml) => NetworkDocument.Parse(yaml, DocumentFormat.Yaml, "network.yaml");

    public static Inventory Inventory(string yaml) => Causeway.Network.Inventory.Parse(yaml, DocumentFormat.Yaml, "inventory.yaml");

    public static PlanResult Plan(string network, string inventory, WhatIf? whatIf = null) => Planner.Plan(Network(network), Inventory(inventory), whatIf);

    /// <summary>One site with users and one circuit whose filter allows <paramref name="communities"/>.</summary>
    public static string OneCircuit(string communities, string sku = "Standard", string location = "Amsterdam", string region = "westeurope", bool breakout = true, string cloud = "Public") => $"""
        sites:
          - name: hq
            traffic: [users]
            publicPrefixes: [203.0.113.0/29]
            internetBreakout: {(breakout ? "true" : "false")}
        circuits:
          - name: er-1
            site: hq
            peeringLocation: {location}
            region: {region}
            sku: {sku}
            cloud: {cloud}
            bandwidthMbps: 1000
            microsoftPeering:
              customerAsn: 65010
              advertisedPublicPrefixes: [203.0.113.0/29]
              routeFilter:
                name: rf-1
                rules:
                  - access: Allow
                    communities: [{communities}]
        """;

    public static string OneEnvironment(string geography = "europe", bool cdn = true) => $"""
        environments: [{"{"}name: env1, geography: {geography}, type: production, cdn: {(cdn ? "true" : "false")}{"}"}]
        """;

    public static string ExamplePath(string name) => Path.Combine(AppContext.BaseDirectory, "docs", "examples", name);
}
