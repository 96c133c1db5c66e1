using Causeway.Platform.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.ApiManagement;

/// <summary>
/// <c>ANY /apim/{connector}/{connectionId}/{*path}</c> as a <see cref="DataPlane"/> lane: recognised by hand and sent
/// straight to <see cref="ApimRuntime"/>. A second segment that is not a GUID (such as the OAuth redirect) is not a call
/// and goes on to the general pipeline.
/// </summary>
internal static class ApimDataPlane
{
    private const string Prefix = "/apim/";

    public static IApplicationBuilder Use(IApplicationBuilder app)
    {
        var runtime = app.ApplicationServices.GetRequiredService<ApimRuntime>();
        return app.UseDataPlane<(string Connector, Guid ConnectionId)>("apim", TryMatch,
            (context, call) => runtime.HandleAsync(context, call.Connector, call.ConnectionId));
    }

    /// <summary>Splits <c>/apim/{connector}/{connectionId}[/rest]</c>; false for anything else.</summary>
    internal static bool TryMatch(HttpRequest request, out (string Connector, Guid ConnectionId) call)
    {
        call = default;
        var value = request.Path.Value;
        if (value is null || !value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = value.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        var afterConnector = rest[(slash + 1)..];
        var end = afterConnector.IndexOf('/');
        if (!Guid.TryParse(end < 0 ? afterConnector : afterConnector[..end], out var connectionId))
        {
            return false;
        }

        call = (rest[..slash].ToString(), connectionId);
        return true;
    }
}
