using System.Text.Json.Nodes;

namespace Causeway.Connectors.Tests;

/// <summary>Runs a call the way the server's /apim endpoint does, up to the backend request and after its answer.</summary>
internal sealed class ApimCall
{
    public required ConnectorDefinition Connector { get; init; }

    public required PolicyContext Context { get; init; }

    public ApimRequest Request => Context.Request;

    public static async Task<ApimCall> SendAsync(
        ConnectorDefinition connector,
        string method,
        string path,
        Dictionary<string, string> connection,
        JsonNode? body = null,
        IEnumerable<KeyValuePair<string, string>>? query = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        SideRequestSender? side = null)
    {
        var queryList = query?.ToList() ?? [];
        var result = OperationMatcher.Match(connector, method, path, queryList, headers, body is not null);
        Assert.True(result.IsSuccess, result.Error?.Message);
        var request = BackendRequestFactory.Create(connector, result.Match!, queryList, headers, body);
        CredentialInjector.Apply(connector, request, connection);
        var context = new PolicyContext(connector, result.Match!.Operation, request, connection)
        {
            PathParameters = result.Match.PathParameters,
            FrontendBaseUri = new Uri($"https://causeway.example/apim/{connector.Name}/c1"),
            SideRequests = side,
            IncomingHeaders = headers,
        };
        await PolicyPipeline.ApplyRequestAsync(context);
        return new ApimCall { Connector = connector, Context = context };
    }

    public ApimResponse Respond(int status, JsonNode? body)
    {
        Context.Response = new ApimResponse { StatusCode = status, Json = body };
        PolicyPipeline.ApplyResponse(Context);
        return Context.Response;
    }
}

internal static class JsonAssert
{
    public static void Equal(string expected, JsonNode? actual)
    {
        var e = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(e, actual), $"expected {e?.ToJsonString()}\nactual   {actual?.ToJsonString()}");
    }
}
