using Microsoft.AspNetCore.Http;

namespace Causeway.Gateway.Tests;

/// <summary>Which requests the gateway Data API's data-plane lane takes, and the route values it reads from them.</summary>
public sealed class GatewayDataPlaneTests
{
    private static (bool Matched, (string Environment, string DataSource, string Path) Route) Match(string method, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        var matched = GatewayDataApi.TryMatch(context.Request, out var route);
        return (matched, route);
    }

    [Theory]
    [InlineData("/environments/default/gateway/files/api/data/v9.2/", "default", "files", "")]
    [InlineData("/environments/default/gateway/files/api/data/v9.2", "default", "files", "")]
    [InlineData("/environments/default/gateway/files/api/data/v9.2/Artist(5)", "default", "files", "Artist(5)")]
    [InlineData("/Environments/prod/GATEWAY/north wind/API/Data/V9.2/$metadata", "prod", "north wind", "$metadata")]
    [InlineData("/environments/e/gateway/d/api/data/v9.2/a/b", "e", "d", "a/b")]
    public void TryMatch_DataApiPaths_ReadsEnvironmentSourceAndPath(string path, string environment, string source, string rest)
    {
        var (matched, route) = Match("GET", path);

        Assert.True(matched);
        Assert.Equal((environment, source, rest), route);
    }

    [Theory]
    [InlineData("POST", "/environments/default/gateway/files/api/data/v9.2/Artist")]
    [InlineData("GET", "/environments//gateway/files/api/data/v9.2/Artist")]
    [InlineData("GET", "/environments/default/gateway//api/data/v9.2/Artist")]
    [InlineData("GET", "/environments/default/gateway/files/api/data/v9.1/Artist")]
    [InlineData("GET", "/environments/default/api/data/v9.2/Artist")]
    [InlineData("GET", "/environments/default/gateway/files")]
    [InlineData("GET", "/api/v1/gateways")]
    public void TryMatch_OtherRequests_LeftToTheGeneralPipeline(string method, string path)
    {
        Assert.False(Match(method, path).Matched);
    }
}
