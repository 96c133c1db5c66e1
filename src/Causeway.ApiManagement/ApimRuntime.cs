using System.Collections.Frozen;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Connectors;
using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Causeway.ApiManagement;

/// <summary>
/// <c>ANY /apim/{connector}/{connectionId}/{*path}</c>: the caller's connection, the connector's operation, credentials,
/// request policies, the backend call (throttled, retried when idempotent, timed out), response policies, the answer.
/// Operations of gateway connectors go to <see cref="GatewayCalls"/> after throttling, matching and reading the body.
/// One instance serves every call; thread-safe.
/// </summary>
internal sealed partial class ApimRuntime(
    ConnectorStore connectors,
    ConnectionStore connections,
    OAuthTokens oauth,
    BackendClient backend,
    ConnectionThrottle throttle,
    GatewayCalls gateway,
    IOptions<ApiManagementOptions> options,
    ILogger<ApimRuntime> logger)
{
    private static readonly HashSet<string> IdempotentMethods = new(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"], StringComparer.OrdinalIgnoreCase);

    // Hop-by-hop headers (RFC 9110 7.6.1) and what Kestrel computes itself are not copied from the backend's answer.
    private static readonly HashSet<string> HopByHop = new(
        ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization"],
        StringComparer.OrdinalIgnoreCase);

    // The throttle keeps a window per connection; forgetting idle ones now and then bounds its memory.
    private const int PruneEvery = 10_000;

    private readonly ApiManagementOptions _options = options.Value;
    private long _calls;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry = BuildRetry(options.Value);
    private ScriptCalls? _scripts;

    // The connection values of remembered records (connections without OAuth), forgotten with their record.
    private readonly ConditionalWeakTable<ConnectionRecord, FrozenDictionary<string, string>> _values = new();

    public async Task HandleAsync(HttpContext context, string connectorName, Guid connectionId)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = new CallOutcome();
        try
        {
            await HandleCoreAsync(context, connectorName, connectionId, outcome);
        }
        finally
        {
            Log.Call(logger, connectorName, outcome.OperationId ?? "-", connectionId, context.Request.Method, context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome.Attempts, outcome.Failure ?? "");
        }
    }

    private async Task HandleCoreAsync(HttpContext context, string connectorName, Guid connectionId, CallOutcome outcome)
    {
        var ct = context.RequestAborted;
        var caller = context.GetCaller();
        var connection = await connections.FindForCallAsync(caller.TenantId, connectionId, ct);
        if (connection is null || !connection.UsableBy(caller.UserId) || !string.Equals(connection.Connector, connectorName, StringComparison.OrdinalIgnoreCase))
        {
            await ProblemAsync(context, 404, "Not Found", $"Connection '{connectionId}' of connector '{Shorten(connectorName)}' was not found.", outcome);
            return;
        }

        var connector = await connectors.FindAsync(caller.TenantId, connection.Connector, ct);
        if (connector is null)
        {
            await ProblemAsync(context, 404, "Not Found", $"Connector '{Shorten(connectorName)}' was not found.", outcome);
            return;
        }

        if (Interlocked.Increment(ref _calls) % PruneEvery == 0)
        {
            throttle.Prune();
        }

        var decision = throttle.TryAcquire(connector.Name, connection.Id.ToString());
        if (!decision.Allowed)
        {
            var limit = throttle.LimitFor(connector.Name);
            context.Response.Headers.RetryAfter = ((int)decision.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ProblemAsync(context, 429, "Too Many Requests",
                $"Connection '{connection.Id}' made {limit.PermitLimit} calls in the last {limit.Window.TotalSeconds:0.#} s, its limit; retry after {decision.RetryAfter.TotalSeconds:0} s.", outcome);
            return;
        }

        var path = OperationPath(context);
        var query = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in context.Request.Query)
        {
            foreach (var v in values)
            {
                query.Add(new(key, v ?? ""));
            }
        }

        // The caller's platform token is for the platform only: it never becomes a backend header, nor a value policies can read.
        var headers = new List<KeyValuePair<string, string>>(context.Request.Headers.Count);
        foreach (var (key, values) in context.Request.Headers)
        {
            if (string.Equals(key, "Authorization", StringComparison.OrdinalIgnoreCase) || string.Equals(key, "Cookie", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var v in values)
            {
                headers.Add(new(key, v ?? ""));
            }
        }
        var hasBody = context.Request.ContentLength > 0 || (context.Request.ContentLength is null && context.Request.Headers.TransferEncoding.Count > 0);
        var matched = OperationMatcher.Match(connector, context.Request.Method, path, query, headers, hasBody);
        if (matched.Match is not { } match)
        {
            var error = matched.Error!;
            await ProblemAsync(context, error.StatusCode, error.StatusCode switch { 404 => "Not Found", 405 => "Method Not Allowed", 501 => "Not Implemented", _ => "Bad Request" },
                error.Message, outcome);
            return;
        }

        outcome.OperationId = match.Operation.OperationId;
        byte[]? body = null;
        if (hasBody)
        {
            body = await ReadBodyAsync(context, ct);
            if (body is null)
            {
                await ProblemAsync(context, 413, "Payload Too Large", $"The request body is larger than {_options.MaxRequestBodyBytes} bytes, the limit of ApiManagement:MaxRequestBodyBytes.", outcome);
                return;
            }
        }

        if (connector.RequiresGateway)
        {
            // Gateway connections have no backend URL: the operation runs on a member of their gateway cluster.
            await gateway.HandleAsync(context, connector, connection, match, body, outcome);
            return;
        }

        JsonNode? json = null;
        if (body is { Length: > 0 } && PolicyPipeline.ReadsBody(connector, match.Operation, PolicySection.Request) && IsJson(context.Request.ContentType))
        {
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException e)
            {
                await ProblemAsync(context, 400, "Bad Request", $"The request body is not valid JSON, which operation '{match.Operation.OperationId}' needs: {e.Message}", outcome);
                return;
            }
        }

        // Only an OAuth refresh or a script may change the secrets of a call; any other call reads the record's own.
        var secrets = connection.OAuth is null && !connector.IsServedByScript(match.Operation)
            ? connections.UnsealShared(connection)
            : connections.UnsealForCall(connection);
        if (connection.OAuth is not null)
        {
            try
            {
                secrets = await oauth.EnsureAsync(connection, secrets, null, ct);
            }
            catch (OAuthException e)
            {
                await ProblemAsync(context, 409, "Conflict", $"Connection '{connection.Id}' is not authenticated: {e.Message}.", outcome);
                return;
            }
        }

        // Only updatenextlink reads the frontend base; building and parsing it costs every other call for nothing.
        var frontend = UsesFrontend(connector) ? new Uri($"{context.Request.Scheme}://{context.Request.Host}/apim/{connector.Name}/{connection.Id}") : null;
        PolicyContext? policy = null;
        try
        {
            policy = await PrepareAsync(connector, connection, secrets, match, query, headers, json, json is null ? body : null, frontend, ct);
        }
        catch (CredentialException e)
        {
            await ProblemAsync(context, 409, "Conflict", $"Connection '{connection.Id}' lacks a credential: {e.Message}.", outcome);
            return;
        }
        catch (PolicyException e)
        {
            await ProblemAsync(context, 400, "Bad Request", $"Operation '{match.Operation.OperationId}': {e.Message}.", outcome);
            return;
        }

        if (connector.IsServedByScript(match.Operation))
        {
            _scripts ??= new ScriptCalls(this, backend, oauth, _options, logger);
            await _scripts.HandleAsync(context, connector, connection, policy, secrets, outcome, ct);
            return;
        }

        var result = await SendAsync(policy.Request, ct, outcome);
        if (result.Response is { StatusCode: HttpStatusCode.Unauthorized } unauthorized && connection.OAuth is not null && !outcome.Refreshed)
        {
            // The token was refused although it looked fresh (revoked or expired early): refresh once and call again.
            outcome.Refreshed = true;
            try
            {
                secrets = await oauth.EnsureAsync(connection, secrets, secrets.AccessToken, ct);
                unauthorized.Dispose();
                policy = await PrepareAsync(connector, connection, secrets, match, query, headers, json, json is null ? body : null, frontend, ct);
                result = await SendAsync(policy.Request, ct, outcome);
            }
            catch (OAuthException e)
            {
                outcome.Failure = "refresh failed";
                Log.RefreshFailed(logger, connection.Id, e.Message);
            }
        }

        if (result.Response is not { } response)
        {
            await ProblemAsync(context, result.Status, result.Status == 504 ? "Gateway Timeout" : "Bad Gateway", result.Problem!, outcome);
            return;
        }

        using (response)
        {
            await WriteResponseAsync(context, connector, connection, policy, response, ct);
        }
    }

    /// <summary>Builds the backend request of a matched operation: factory, credentials, request policies.</summary>
    internal async Task<PolicyContext> PrepareAsync(
        ConnectorDefinition connector, ConnectionRecord connection, ConnectionSecrets secrets, OperationMatch match,
        IEnumerable<KeyValuePair<string, string>> query, IReadOnlyList<KeyValuePair<string, string>> headers, JsonNode? json, byte[]? body, Uri? frontend,
        CancellationToken cancellationToken)
    {
        // A connection without OAuth has the same values on every call while its record is remembered: they are made once
        // per record (as its secrets are opened once per record) and shared, read-only. OAuth tokens change, so those are
        // made per call.
        IReadOnlyDictionary<string, string> values;
        if (connection.OAuth is not null)
        {
            values = ConnectionValues(connection, secrets);
        }
        else if (_values.TryGetValue(connection, out var remembered))
        {
            values = remembered;
        }
        else
        {
            var made = ConnectionValues(connection, secrets).ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
            _values.AddOrUpdate(connection, made);
            values = made;
        }

        var request = BackendRequestFactory.Create(connector, match, query, headers, json?.DeepClone(), body);
        CredentialInjector.Apply(connector, request, values);
        var context = new PolicyContext(connector, match.Operation, request, values)
        {
            PathParameters = match.PathParameters,
            FrontendBaseUri = frontend,
            IncomingHeaders = headers,
            SideRequests = SendSideAsync,
        };
        await PolicyPipeline.ApplyRequestAsync(context, cancellationToken);
        return context;
    }

    internal static Dictionary<string, string> ConnectionValues(ConnectionRecord connection, ConnectionSecrets secrets)
    {
        var values = new Dictionary<string, string>(connection.Values, StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in secrets.Parameters)
        {
            values[k] = v;
        }

        if (connection.OAuth is { } o && secrets.AccessToken is { } token)
        {
            values[o.ParameterName] = token;
        }

        return values;
    }

    internal async Task<SendResult> SendAsync(ApimRequest request, CancellationToken cancellationToken, CallOutcome outcome, bool retry = true)
    {
        var uri = request.ToUri();
        try
        {
            // The first attempt goes straight to the backend; only an answer or failure the retry policy handles enters the
            // pipeline, which hands that first outcome to its strategy as attempt one and makes the further attempts.
            HttpResponseMessage? first = null;
            Exception? failed = null;
            try
            {
                first = await AttemptAsync(request, uri, outcome, cancellationToken);
            }
            catch (HttpRequestException e) when (IsRetryable(e))
            {
                failed = e;
            }

            if (!retry || !IdempotentMethods.Contains(request.Method) || _options.MaxRetries == 0 || (failed is null && !IsRetryable(first!)))
            {
                if (failed is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
                }

                return new SendResult(first, 0, null);
            }

            var firstOutcome = new FirstOutcome(first, failed);
            var response = await _retry.ExecuteAsync(static (state, ct) => state.First.Take() is { } taken ? taken : state.Runtime.AttemptAsync(state.Request, state.Uri, state.Outcome, ct),
                (Runtime: this, Request: request, Uri: uri, Outcome: outcome, First: firstOutcome), cancellationToken);
            return new SendResult(response, 0, null);
        }
        catch (TimeoutException)
        {
            outcome.Failure = "timeout";
            return new SendResult(null, 504,
                $"The backend {uri.Authority} did not answer within {_options.BackendTimeoutSeconds:0.###} s (ApiManagement:BackendTimeoutSeconds).");
        }
        catch (HttpRequestException e)
        {
            outcome.Failure = e.HttpRequestError.ToString();
            var why = e.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => "its host name does not resolve",
                HttpRequestError.ConnectionError => e.InnerException is SocketException s ? $"the connection failed ({s.SocketErrorCode})" : "the connection failed",
                HttpRequestError.SecureConnectionError => "the TLS handshake failed",
                HttpRequestError.InvalidResponse => "it answered with something that is not HTTP",
                HttpRequestError.ResponseEnded => "it closed the connection before answering",
                _ => "the call failed",
            };
            var status = e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut } || e.InnerException is TimeoutException ? 504 : 502;
            return new SendResult(null, status, $"The backend {uri.Authority} could not be reached: {why}.");
        }
    }

    /// <summary>
    /// The first attempt's outcome, given to the retry pipeline once as its own first attempt. The pipeline calls its
    /// callback one attempt after another, never at once.
    /// </summary>
    private sealed class FirstOutcome(HttpResponseMessage? response, Exception? failure)
    {
        private bool _taken;

        /// <summary>The first outcome the first time (a failure is rethrown); null after.</summary>
        public ValueTask<HttpResponseMessage>? Take()
        {
            if (_taken)
            {
                return null;
            }

            _taken = true;
            return failure is null ? ValueTask.FromResult(response!) : ValueTask.FromException<HttpResponseMessage>(failure);
        }
    }

    // What the retry pipeline retries (besides connection failures): 429 and 5xx answers.
    private static bool IsRetryable(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;

    // A connection that failed or closed before answering is retried; a timeout is not (the caller has waited long enough).
    private static bool IsRetryable(HttpRequestException e) => e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded;

    private async ValueTask<HttpResponseMessage> AttemptAsync(ApimRequest request, Uri uri, CallOutcome outcome, CancellationToken ct)
    {
        outcome.Attempts++;
        using var message = ToBackendMessage(request, uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.BackendTimeoutSeconds));
        try
        {
            return await backend.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException("backend timeout", e);
        }
    }

    private async Task<ApimResponse> SendSideAsync(ApimRequest request, CancellationToken cancellationToken)
    {
        var result = await SendAsync(request, cancellationToken, new CallOutcome(), retry: false);
        if (result.Response is not { } response)
        {
            throw new PolicyException(PolicyTemplateIds.SetValueFromUrl, result.Problem!);
        }

        using (response)
        {
            var answer = new ApimResponse { StatusCode = (int)response.StatusCode };
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            try
            {
                answer.Json = bytes.Length == 0 ? null : JsonNode.Parse(bytes);
            }
            catch (JsonException)
            {
                answer.RawBody = bytes;
            }

            return answer;
        }
    }

    private HttpRequestMessage ToBackendMessage(ApimRequest request, Uri uri)
    {
        var (target, host) = backend.Resolve(uri);
        var message = ToMessage(request, target);
        if (host is not null)
        {
            message.Headers.Host = host;
        }

        return message;
    }

    /// <summary>
    /// A prepared backend request as a message to <paramref name="target"/>: its body (JSON or raw bytes) and headers,
    /// without Host and Content-Length, which the sender sets.
    /// </summary>
    internal static HttpRequestMessage ToMessage(ApimRequest request, Uri target)
    {
        var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), target);
        if (request.Json is { } json)
        {
            message.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(json));
        }
        else if (request.RawBody is { } raw)
        {
            message.Content = new ReadOnlyMemoryContent(raw);
        }

        foreach (var (name, value) in request.Headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (request.Json is not null && message.Content!.Headers.ContentType is null)
        {
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        return message;
    }

    internal async Task WriteResponseAsync(HttpContext context, ConnectorDefinition connector, ConnectionRecord connection, PolicyContext policy, HttpResponseMessage response, CancellationToken ct)
    {
        var answer = new ApimResponse { StatusCode = (int)response.StatusCode };
        CopyHeaders(response.Headers.NonValidated, answer.Headers);
        CopyHeaders(response.Content.Headers.NonValidated, answer.Headers);

        var buffered = false;
        if (PolicyPipeline.ReadsBody(connector, policy.Operation, PolicySection.Response) && IsJson(response.Content.Headers.ContentType?.MediaType)
            && response.Content.Headers.ContentLength is null or > 0 && (response.Content.Headers.ContentLength ?? 0) <= _options.MaxBufferedResponseBytes)
        {
            var bytes = await ReadLimitedAsync(await response.Content.ReadAsStreamAsync(ct), _options.MaxBufferedResponseBytes, ct);
            if (bytes is not null)
            {
                buffered = true;
                try
                {
                    answer.Json = JsonNode.Parse(bytes);
                }
                catch (JsonException)
                {
                    // Not JSON after all: the caller gets the backend's bytes unchanged.
                    answer.RawBody = bytes;
                }
            }
        }

        if (await ResponseWriting.WriteHeadAsync(context, connections, logger, connector, connection, policy, answer, buffered, ct) is not null)
        {
            return;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await stream.CopyToAsync(context.Response.Body, ct);
    }

    // The backend's headers as it sent them (not parsed and re-serialised), less the hop-by-hop ones.
    private static void CopyHeaders(System.Net.Http.Headers.HttpHeadersNonValidated headers, NameValueList into)
    {
        foreach (var (name, values) in headers)
        {
            if (!HopByHop.Contains(name))
            {
                foreach (var v in values)
                {
                    into.Add(name, v);
                }
            }
        }
    }

    private async Task<byte[]?> ReadBodyAsync(HttpContext context, CancellationToken ct)
    {
        var limit = _options.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // This endpoint has its own limit; Kestrel's would answer first with a less helpful message.
            size.MaxRequestBodySize = null;
        }

        return await ReadLimitedAsync(context.Request.Body, limit, ct);
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream stream, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static bool UsesFrontend(ConnectorDefinition connector)
    {
        foreach (var p in connector.Policies)
        {
            if (p.TemplateId == PolicyTemplateIds.UpdateNextLink)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The still-encoded path after <c>/apim/{connector}/{connectionId}</c>.</summary>
    private static string OperationPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.ToString();
        var q = raw.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            raw = raw[..q];
        }

        // "/apim/{connector}/{connectionId}/rest": skip three segments.
        var index = 0;
        for (var i = 0; i < 4 && index >= 0; i++)
        {
            index = raw.IndexOf('/', index + (i == 0 ? 0 : 1));
        }

        return index < 0 ? "/" : raw[index..];
    }

    private static string Shorten(string text) => text.Length > 64 ? text[..64] + "..." : text;

    internal static async Task ProblemAsync(HttpContext context, int status, string title, string detail, CallOutcome outcome)
    {
        outcome.Failure ??= title;
        await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
    }

    internal static ResiliencePipeline<HttpResponseMessage> BuildRetry(ApiManagementOptions options)
    {
        if (options.MaxRetries == 0)
        {
            return ResiliencePipeline<HttpResponseMessage>.Empty;
        }

        var maxDelay = TimeSpan.FromSeconds(10);
        return new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = options.MaxRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
            MaxDelay = maxDelay,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: HttpRequestException e } => IsRetryable(e),
                { Result: { } r } => IsRetryable(r),
                _ => false,
            }),
            DelayGenerator = args =>
            {
                // A backend that says when to come back is believed, within the cap.
                var after = args.Outcome.Result?.Headers.RetryAfter;
                TimeSpan? delay = after?.Delta ?? (after?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
                return ValueTask.FromResult(delay is { } d && d > TimeSpan.Zero && d <= maxDelay ? d : (TimeSpan?)null);
            },
            OnRetry = args =>
            {
                args.Outcome.Result?.Dispose();
                return default;
            },
        }).Build();
    }

    internal sealed class CallOutcome
    {
        public string? OperationId { get; set; }

        public int Attempts { get; set; }

        public bool Refreshed { get; set; }

        public string? Failure { get; set; }
    }

    internal sealed record SendResult(HttpResponseMessage? Response, int Status, string? Problem);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information,
            Message = "apim {Connector} {Operation} connection {ConnectionId} {Method} -> {Status} in {DurationMs:0.0} ms, {Attempts} backend attempt(s) {Failure}")]
        public static partial void Call(ILogger logger, string connector, string operation, Guid connectionId, string method, int status, double durationMs, int attempts, string failure);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "apim connection {ConnectionId}: OAuth refresh after a 401 failed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, Guid connectionId, string reason);

    }
}
