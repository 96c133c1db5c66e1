using System.Net;
using Causeway.Connectors;

namespace Causeway.ApiManagement;

/// <summary>
/// <c>POST .../connections/{cid}/test</c>: checks that the connection can authenticate to its backend. With OAuth, a
/// token is obtained (or refreshed); then the first GET operation that needs no parameters is called (no retries), or,
/// when there is none, the backend's base URL. 401 and 403 mean the credentials are refused; any other HTTP answer
/// means the backend was reached with them. A gateway connection of the built-in SQL connector is tested by its gateway, which
/// opens the data source; one of a custom connector is Connected when its credentials fit the connector and its gateway cluster
/// has a member online (the backend itself is reached only by the calls, from the gateway's network).
/// The outcome is stored as the connection's status.
/// </summary>
internal sealed class ConnectionTester(ConnectorStore connectors, ConnectionStore connections, OAuthTokens oauth, ApimRuntime runtime, GatewayCalls gateway)
{
    public async Task<(string Status, string? Reason)> TestAsync(ConnectionRecord connection, CancellationToken cancellationToken)
    {
        var (status, reason) = await RunAsync(connection, cancellationToken);
        await connections.SetStatusAsync(connection, status, reason, cancellationToken);
        return (status, reason);
    }

    private async Task<(string Status, string? Reason)> RunAsync(ConnectionRecord connection, CancellationToken cancellationToken)
    {
        var connector = await connectors.FindAsync(connection.TenantId, connection.Connector, cancellationToken);
        if (connector is null)
        {
            return (ConnectionStatus.Error, $"connector '{connection.Connector}' no longer exists");
        }

        if (connector.RequiresGateway)
        {
            return await gateway.TestAsync(connection, connector, cancellationToken);
        }

        var secrets = connections.Unseal(connection);
        if (connection.OAuth is not null)
        {
            try
            {
                secrets = await oauth.EnsureAsync(connection, secrets, null, cancellationToken);
            }
            catch (OAuthException e)
            {
                return (connection.OAuth.GrantType == OAuthConfig.AuthorizationCode && secrets.AccessToken is null ? ConnectionStatus.Unauthenticated : ConnectionStatus.Error, e.Message);
            }
        }

        var probe = connector.Operations.FirstOrDefault(o => o.Method == "GET" && o.Availability.Available && !o.IsTrigger
            && !o.Parameters.Any(p => p.Required && p.Default is null) && !o.PathTemplate.Contains('{', StringComparison.Ordinal));
        ApimRequest request;
        try
        {
            if (probe is not null)
            {
                var match = new OperationMatch(probe, new Dictionary<string, string>());
                request = (await runtime.PrepareAsync(connector, connection, secrets, match, [], [], null, null, null, cancellationToken)).Request;
            }
            else
            {
                request = new ApimRequest { Method = "GET", BaseUrl = BackendRequestFactory.BaseUrl(connector), Path = "/" };
                CredentialInjector.Apply(connector, request, ApimRuntime.ConnectionValues(connection, secrets));
                if (request.BaseUrl.Length == 0)
                {
                    return (ConnectionStatus.Connected, "credentials complete; the backend host comes from a policy, so no call was made");
                }
            }
        }
        catch (CredentialException e)
        {
            return (ConnectionStatus.Error, e.Message);
        }
        catch (PolicyException e)
        {
            return (ConnectionStatus.Error, e.Message);
        }

        var result = await runtime.SendAsync(request, cancellationToken, new ApimRuntime.CallOutcome(), retry: false);
        if (result.Response is not { } response)
        {
            return (ConnectionStatus.Error, result.Problem);
        }

        using (response)
        {
            var what = probe is null ? "the backend" : $"operation '{probe.OperationId}'";
            return response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? (ConnectionStatus.Error, $"{what} refused the connection's credentials ({(int)response.StatusCode})")
                : (int)response.StatusCode >= 500
                    ? (ConnectionStatus.Error, $"{what} answered {(int)response.StatusCode}")
                    : (ConnectionStatus.Connected, null);
        }
    }
}
