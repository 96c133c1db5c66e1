using Microsoft.AspNetCore.Http;

namespace Causeway.ApiManagement.Tests;

/// <summary>Which requests the /apim data-plane lane takes, and the connector and connection it reads from them.</summary>
public sealed class ApimDataPlaneTests
{
    private static readonly Guid Connection = Guid.Parse("4f6c2a57-0d0e-4c55-9f35-1e7d4a2b9c10");

    [Theory]
    [InlineData("/apim/widgets/4f6c2a57-0d0e-4c55-9f35-1e7d4a2b9c10/items", "widgets")]
    [InlineData("/apim/widgets/4f6c2a57-0d0e-4c55-9f35-1e7d4a2b9c10", "widgets")]
    [InlineData("/APIM/shared_sql/4F6C2A57-0D0E-4C55-9F35-1E7D4A2B9C10/a/b?c", "shared_sql")]
    public void TryMatch_Calls_ReadConnectorAndConnection(string path, string connector)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path.Split('?')[0];

        Assert.True(ApimDataPlane.TryMatch(context.Request, out var call));
        Assert.Equal((connector, Connection), call);
    }

    [Theory]
    [InlineData("/apim/oauth/callback")]
    [InlineData("/apim/widgets/not-a-guid/items")]
    [InlineData("/apim//4f6c2a57-0d0e-4c55-9f35-1e7d4a2b9c10/items")]
    [InlineData("/apim/widgets")]
    [InlineData("/api/v1/connectors")]
    public void TryMatch_OtherPaths_LeftToTheGeneralPipeline(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;

        Assert.False(ApimDataPlane.TryMatch(context.Request, out _));
    }
}
