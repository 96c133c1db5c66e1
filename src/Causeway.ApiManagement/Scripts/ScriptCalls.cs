using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Causeway.Connectors;
using Causeway.Connectors.Scripting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Polly;

namespace Causeway.ApiManagement;

/// <summary>
/// Calls of operations served by a connector's custom code (script.csx). The backend request is prepared as for any
/// call (path, query, credentials, request policies) and handed to the script as <see cref="IScriptContext.Request"/>;
/// what the script sends goes through the shared backend client (overrides, time-outs, retries when idempotent); the
/// script's answer passes through the response policies to the caller. A script past
/// <see cref="ApiManagementOptions.ScriptTimeoutSeconds"/> answers 504; a script that throws answers 502 with the
/// exception's type and message (connection secrets masked, no stack trace). A request the script sends with the
/// connection's OAuth token that the backend answers 401 gets one refresh of the token and is sent again, as plain calls
/// are. One instance serves every call; thread-safe.
/// </summary>
internal sealed partial class ScriptCalls(ApimRuntime runtime, BackendClient backend, OAuthTokens oauth, ApiManagementOptions options, ILogger logger)
{
    private static readonly HashSet<string> IdempotentMethods = new(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"], StringComparer.OrdinalIgnoreCase);

    private readonly ResiliencePipeline<HttpResponseMessage> _retry = ApimRuntime.BuildRetry(options);

    public async Task HandleAsync(HttpContext context, ConnectorDefinition connector, ConnectionRecord connection, PolicyContext policy,
        ConnectionSecrets secrets, ApimRuntime.CallOutcome outcome, CancellationToken ct)
    {
        var script = connector.CustomCode!;
        var limit = TimeSpan.FromSeconds(options.ScriptTimeoutSeconds);
        using var request = ToMessage(policy.Request);
        var frontend = $"{context.Request.Scheme}://{context.Request.Host}/apim/{connector.Name}/{connection.Id}";
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path + context.Request.QueryString;
        var scriptContext = new Context(this, policy.Operation.OperationId, context.TraceIdentifier, request,
            new Uri($"{context.Request.Scheme}://{context.Request.Host}{raw}"), frontend, outcome, logger)
        {
            Connection = connection,
            Secrets = secrets,
        };

        ScriptOutcome result;
        using (logger.BeginScope("connector {Connector} operation {Operation} correlation {CorrelationId}", connector.Name, policy.Operation.OperationId, context.TraceIdentifier))
        {
            result = await script.RunAsync(scriptContext, limit, ct);
        }

        if (result.IsTimeout)
        {
            outcome.Failure = "script timeout";
            await ApimRuntime.ProblemAsync(context, 504, "Gateway Timeout",
                $"The custom code (script.csx) of connector '{connector.Name}' did not finish operation '{policy.Operation.OperationId}' within {options.ScriptTimeoutSeconds:0.###} s (ApiManagement:ScriptTimeoutSeconds).", outcome);
            return;
        }

        if (result.Response is not { } response)
        {
            outcome.Failure = "script failed";
            var message = Mask(result.ErrorMessage ?? "", secrets);
            await ApimRuntime.ProblemAsync(context, 502, "Bad Gateway",
                $"The custom code (script.csx) of connector '{connector.Name}' failed in operation '{policy.Operation.OperationId}': {result.ErrorType}: {Shorten(message)}", outcome);
            return;
        }

        using (response)
        {
            response.Content ??= new ByteArrayContent([]);
            await runtime.WriteResponseAsync(context, connector, connection, policy, response, ct);
        }
    }

    /// <summary>The prepared backend request as the script sees it: the backend's own URL (overrides apply when it is sent).</summary>
    internal static HttpRequestMessage ToMessage(ApimRequest request) => ApimRuntime.ToMessage(request, request.ToUri());

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, ApimRuntime.CallOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { IsAbsoluteUri: true } uri || uri.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException("Context.SendAsync needs a request with an absolute http or https URL.");
        }

        // A message can be sent once; every attempt sends a copy, so the body is read into memory first.
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(ct);
        var pipeline = IdempotentMethods.Contains(request.Method.Method) ? _retry : ResiliencePipeline<HttpResponseMessage>.Empty;
        return await pipeline.ExecuteAsync(async attemptToken =>
        {
            outcome.Attempts++;
            using var copy = Copy(request, uri, body);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(attemptToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.BackendTimeoutSeconds));
            try
            {
                return await backend.SendAsync(copy, timeout.Token);
            }
            catch (OperationCanceledException e) when (!attemptToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The backend {uri.Authority} did not answer within {options.BackendTimeoutSeconds:0.###} s (ApiManagement:BackendTimeoutSeconds).", e);
            }
        }, ct);
    }

    private HttpRequestMessage Copy(HttpRequestMessage request, Uri uri, byte[]? body)
    {
        var (target, host) = backend.Resolve(uri);
        var copy = new HttpRequestMessage(request.Method, target) { Version = request.Version };
        foreach (var (name, values) in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }

        if (host is not null)
        {
            copy.Headers.Host = host;
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (var (name, values) in request.Content!.Headers)
            {
                if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    copy.Content.Headers.TryAddWithoutValidation(name, values);
                }
            }
        }

        return copy;
    }

    /// <summary>
    /// After a 401 to a request carrying the connection's OAuth token: refreshes the token once per call and puts the new
    /// one in the request's Authorization header. False when there is nothing to refresh or the refresh failed.
    /// </summary>
    private async Task<bool> RefreshAsync(Context context, HttpRequestMessage request, CancellationToken ct)
    {
        var old = context.Secrets.AccessToken;
        if (context.Connection.OAuth is null || context.Outcome.Refreshed || string.IsNullOrEmpty(old)
            || request.Headers.Authorization is not { Scheme: var scheme, Parameter: var token }
            || !string.Equals(scheme, "Bearer", StringComparison.OrdinalIgnoreCase) || token != old)
        {
            return false;
        }

        context.Outcome.Refreshed = true;
        try
        {
            context.Secrets = await oauth.EnsureAsync(context.Connection, context.Secrets, old, ct);
        }
        catch (OAuthException e)
        {
            context.Outcome.Failure = "refresh failed";
            Log.RefreshFailed(logger, context.Connection.Id, e.Message);
            return false;
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.Secrets.AccessToken);
        return true;
    }

    private static string Mask(string message, ConnectionSecrets secrets)
    {
        var values = secrets.Parameters.Values.Append(secrets.AccessToken).Append(secrets.RefreshToken).Append(secrets.ClientSecret);
        foreach (var secret in values.OfType<string>().Where(v => v.Length >= 4).OrderByDescending(v => v.Length))
        {
            message = message.Replace(secret, "***", StringComparison.Ordinal);
        }

        return message;
    }

    private static string Shorten(string text) => text.Length > 500 ? text[..500] + "..." : text;

    private sealed class Context(ScriptCalls calls, string operationId, string correlationId, HttpRequestMessage request, Uri original, string frontend,
        ApimRuntime.CallOutcome outcome, ILogger logger) : IScriptContext
    {
        public string CorrelationId => correlationId;

        public string OperationId => operationId;

        public Uri OriginalRequestUri => original;

        public HttpRequestMessage Request => request;

        public ILogger Logger => logger;

        public required ConnectionRecord Connection { get; init; }

        public required ConnectionSecrets Secrets { get; set; }

        public ApimRuntime.CallOutcome Outcome => outcome;

        public Uri CreateNotificationUri(string relativePath) =>
            new(frontend + "/" + (relativePath ?? "").TrimStart('/'));

        public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var response = await calls.SendAsync(request, outcome, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized && await calls.RefreshAsync(this, request, cancellationToken))
            {
                response.Dispose();
                response = await calls.SendAsync(request, outcome, cancellationToken);
            }

            Log.ScriptSend(logger, request.Method.Method, request.RequestUri!.Authority, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5020, Level = LogLevel.Debug, Message = "custom code sent {Method} to {Authority} -> {Status} in {DurationMs:0.0} ms")]
        public static partial void ScriptSend(ILogger logger, string method, string authority, int status, double durationMs);

        [LoggerMessage(EventId = 5021, Level = LogLevel.Warning, Message = "apim connection {ConnectionId}: OAuth refresh after a 401 to custom code's request failed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, Guid connectionId, string reason);
    }
}
