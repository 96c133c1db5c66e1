using System.Text.Json;
using Causeway.Connectors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Causeway.ApiManagement;

/// <summary>The end of every /apim call that reached a backend, directly or through a gateway.</summary>
internal static partial class ResponseWriting
{
    /// <summary>
    /// Runs the operation's response policies over the answer (a failing policy is logged and the answer passes
    /// through), marks the connection Unauthenticated when a policy says so, and writes the status and headers. An answer
    /// read whole (<paramref name="buffered"/>) is written here and its bytes returned; null means the caller streams the
    /// original body.
    /// </summary>
    public static async Task<byte[]?> WriteHeadAsync(HttpContext context, ConnectionStore connections, ILogger logger, ConnectorDefinition connector,
        ConnectionRecord connection, PolicyContext policy, ApimResponse answer, bool buffered, CancellationToken ct)
    {
        policy.Response = answer;
        try
        {
            PolicyPipeline.ApplyResponse(policy);
        }
        catch (PolicyException e)
        {
            Log.ResponsePolicyFailed(logger, connector.Name, policy.Operation.OperationId, e.Message);
        }

        if (policy.ConnectionUnauthenticated)
        {
            await connections.SetStatusAsync(connection, ConnectionStatus.Unauthenticated, $"the backend answered {answer.StatusCode}: sign in again", ct);
        }

        context.Response.StatusCode = answer.StatusCode;
        var rewritten = buffered ? answer.Json is { } json ? JsonSerializer.SerializeToUtf8Bytes(json) : answer.RawBody?.ToArray() ?? [] : null;
        foreach (var (name, value) in answer.Headers)
        {
            if (rewritten is null || !string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.Append(name, value);
            }
        }

        if (rewritten is not null)
        {
            context.Response.ContentLength = rewritten.Length;
            await context.Response.Body.WriteAsync(rewritten, ct);
        }

        return rewritten;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "apim {Connector} {Operation}: a response policy failed, answer passed through: {Reason}")]
        public static partial void ResponsePolicyFailed(ILogger logger, string connector, string operation, string reason);
    }
}
