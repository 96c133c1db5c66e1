using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Causeway.Bus;
using Causeway.Security;

namespace Causeway.Gateway.Agent;

/// <summary>
/// Makes the HTTP calls of custom connectors' gateway connections (<see cref="GatewayHttp.Call"/>) on premises and hands
/// every other request to the next handler. It opens the connection's credential envelope with the cluster's private key
/// (once per envelope, then from memory), adds the credentials, sends the request with one pooled
/// <see cref="SocketsHttpHandler"/> and streams status, headers and body back through the bus as the backend writes
/// them. Redirects are not followed, cookies are not kept, bodies are not decompressed, no proxy is used. Cancellation
/// (caller gone, deadline) reaches the outgoing request. Thread-safe.
/// </summary>
internal sealed class HttpCallHandler : IBusHandler, IDisposable
{
    /// <summary>The environment variable that restricts the hosts the agent calls (see <see cref="HostAllowList"/>).</summary>
    public const string AllowedHostsVariable = "CAUSEWAY_GATEWAY_HTTP_ALLOWED_HOSTS";

    /// <summary>Most credential envelopes remembered; beyond it the memory is cleared and refilled as calls arrive.</summary>
    internal const int MaxRemembered = 1024;

    private const int CopyBufferSize = 32 * 1024;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    // Hop-by-hop headers (RFC 9110 7.6.1) are neither sent nor passed back.
    private static readonly HashSet<string> HopByHop = new(
        ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization"],
        StringComparer.OrdinalIgnoreCase);

    private readonly Guid _clusterId;
    private readonly RSA _privateKey;
    private readonly Action<string> _log;
    private readonly IBusHandler _next;
    private readonly HttpMessageInvoker _client;
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> _secrets = new(StringComparer.Ordinal);
    private long _envelopesOpened;

    public HttpCallHandler(Guid clusterId, RSA privateKey, Action<string> log, IBusHandler next, HostAllowList? allowed = null)
    {
        _clusterId = clusterId;
        _privateKey = privateKey;
        _log = log;
        _next = next;
        Allowed = allowed ?? HostAllowList.Parse(Environment.GetEnvironmentVariable(AllowedHostsVariable));
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        }, disposeHandler: true);
        if (!Allowed.AllowsAll)
        {
            log($"HTTP calls of gateway connections are limited to these hosts: {Allowed}.");
        }
    }

    /// <summary>The hosts this agent calls.</summary>
    public HostAllowList Allowed { get; }

    /// <summary>How many envelopes were opened with the private key.</summary>
    public long EnvelopesOpened => Interlocked.Read(ref _envelopesOpened);

    public async Task HandleAsync(BusIncomingRequest request, IBusResponseWriter response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (request.Operation != GatewayHttp.Call)
        {
            await _next.HandleAsync(request, response, cancellationToken);
            return;
        }

        var call = JsonSerializer.Deserialize<HttpCallMessage>(request.Body.Span, Web) ?? throw new BusException("bad-request", "The request is empty.");
        if (call.ClusterId != _clusterId)
        {
            throw new BusException("bad-request", "The request is for another gateway cluster.");
        }

        if (!Uri.TryCreate(call.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new BusException("bad-request", "The backend URL must be an absolute http or https URL.");
        }

        if (!Allowed.Allows(url))
        {
            _log($"Refused an HTTP call to {url.Authority}: not in {AllowedHostsVariable}.");
            throw new BusException(GatewayHttp.HostNotAllowed,
                $"This gateway is not allowed to call {url.Authority}: its operator limits HTTP calls to {Allowed} ({AllowedHostsVariable}).");
        }

        var where = $"{url.Scheme}://{url.Authority}";
        using var message = Build(call, url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Clamp(call.ResponseTimeoutSeconds, 0.001, 86_400)));
        HttpResponseMessage answer;
        try
        {
            answer = await _client.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _log($"The backend {where} did not answer within {call.ResponseTimeoutSeconds:0.###} s.");
            throw new BusException(GatewayHttp.BackendTimeout,
                $"The backend {where} did not answer the gateway within {call.ResponseTimeoutSeconds:0.###} s.");
        }
        catch (HttpRequestException e)
        {
            var why = Why(e);
            _log($"The backend {where} cannot be reached: {why}.");
            throw new BusException(GatewayHttp.BackendUnreachable, $"The backend {where} cannot be reached from the gateway: {why}.");
        }

        using (answer)
        {
            var headers = new List<HttpCallHeader>();
            foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    headers.AddRange(values.Select(v => new HttpCallHeader(name, v)));
                }
            }

            await response.StartAsync((int)answer.StatusCode, JsonSerializer.SerializeToUtf8Bytes(new HttpCallResponseHead(headers), Web), cancellationToken);

            // The body goes out as it arrives; the bus's credit window slows the backend read when the caller reads slowly.
            await using var body = await answer.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[CopyBufferSize];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private HttpRequestMessage Build(HttpCallMessage call, Uri url)
    {
        var credentials = call.Credentials ?? new HttpCallCredentials(GatewayHttp.NoCredentials, null, null, null, null, null);
        string? authorization = null;
        switch (credentials.Kind)
        {
            case GatewayHttp.NoCredentials:
                break;
            case GatewayHttp.ApiKey:
                var key = Secret(credentials, credentials.Parameter ?? "api_key")
                    ?? throw new BusException(GatewayHttp.CredentialsIncomplete, $"The connection's credentials have no value for '{credentials.Parameter}' (API key).");
                if (string.IsNullOrEmpty(credentials.Name))
                {
                    throw new BusException("bad-request", "The API key's header or query parameter name is missing.");
                }

                if (credentials.In == "query")
                {
                    url = WithQuery(url, credentials.Name, key);
                }

                break;
            case GatewayHttp.Basic:
                var user = Secret(credentials, "username") ?? credentials.Username;
                var password = Secret(credentials, "password");
                if (user is null || password is null)
                {
                    throw new BusException(GatewayHttp.CredentialsIncomplete, "The connection's credentials need 'username' and 'password' (basic authentication).");
                }

                authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
                break;
            default:
                throw new BusException("bad-request", $"Unknown credential kind '{credentials.Kind}'.");
        }

        var message = new HttpRequestMessage(new HttpMethod(call.Method), url);
        if (call.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
        }

        foreach (var header in call.Headers ?? [])
        {
            if (HopByHop.Contains(header.Name) || string.Equals(header.Name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (string.Equals(header.Name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.Host = header.Value;
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(header.Name, header.Value))
            {
                message.Content?.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
        }

        // Credentials last: they replace any header of the same name the request already had.
        if (credentials.Kind == GatewayHttp.ApiKey && credentials.In != "query")
        {
            message.Headers.Remove(credentials.Name!);
            message.Headers.TryAddWithoutValidation(credentials.Name!, Secret(credentials, credentials.Parameter ?? "api_key"));
        }
        else if (authorization is not null)
        {
            message.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return message;
    }

    /// <summary>A secret parameter of the connection, from its envelope (opened once, then remembered).</summary>
    private string? Secret(HttpCallCredentials credentials, string name)
    {
        if (credentials.Envelope is not { Length: > 0 } envelope)
        {
            return null;
        }

        if (!_secrets.TryGetValue(envelope, out var values))
        {
            values = Open(envelope);
            if (_secrets.Count >= MaxRemembered)
            {
                _secrets.Clear();
            }

            _secrets[envelope] = values;
        }

        return values.TryGetValue(name, out var value) ? value : values.FirstOrDefault(v => string.Equals(v.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private Dictionary<string, string> Open(string envelope)
    {
        byte[] clear;
        try
        {
            clear = GatewayEnvelope.Open(_privateKey, envelope, GatewayOperations.CredentialsAssociatedData(_clusterId));
            Interlocked.Increment(ref _envelopesOpened);
        }
        catch (GatewayCryptoException e)
        {
            _log($"The credentials of a gateway connection cannot be opened: {e.Message}");
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable,
                "The connection's credentials cannot be decrypted by this gateway: they were altered or sealed for another cluster's key. Create the connection again.");
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(clear) ?? [];
        }
        catch (JsonException)
        {
            throw new BusException(GatewayErrorCodes.CredentialsUnreadable, "The connection's credentials are not a JSON object of parameter values.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    private static Uri WithQuery(Uri url, string name, string value)
    {
        var kept = url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => !string.Equals(Uri.UnescapeDataString(pair.Split('=')[0]), name, StringComparison.Ordinal));
        var query = string.Join('&', kept.Append($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}"));
        return new UriBuilder(url) { Query = query }.Uri;
    }

    private static string Why(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "its host name does not resolve",
        HttpRequestError.ConnectionError => e.InnerException is SocketException s ? $"the connection failed ({s.SocketErrorCode})" : "the connection failed",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed",
        HttpRequestError.InvalidResponse => "it answered with something that is not HTTP",
        HttpRequestError.ResponseEnded => "it closed the connection before answering",
        _ => "the call failed",
    };
}

/// <summary>
/// The hosts an agent may call for gateway connections, from <see cref="HttpCallHandler.AllowedHostsVariable"/>: entries
/// separated by commas or spaces, each <c>host</c>, <c>host:port</c>, <c>*.domain</c> (any name below the domain) or
/// <c>*.domain:port</c>; names compare ignoring case. Empty or unset: every host. Immutable.
/// </summary>
internal sealed class HostAllowList
{
    private readonly IReadOnlyList<(string Host, bool Subdomains, int? Port)> _entries;

    private HostAllowList(IReadOnlyList<(string Host, bool Subdomains, int? Port)> entries) => _entries = entries;

    /// <summary>True when no restriction is set.</summary>
    public bool AllowsAll => _entries.Count == 0;

    /// <summary>Parses the setting.</summary>
    /// <exception cref="AgentException">An entry is not a host name with an optional port.</exception>
    public static HostAllowList Parse(string? text)
    {
        var entries = new List<(string, bool, int?)>();
        foreach (var raw in (text ?? "").Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = raw.Trim();
            int? port = null;
            var colon = entry.LastIndexOf(':');
            if (colon > 0 && entry.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                if (!int.TryParse(entry[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                {
                    throw new AgentException($"{HttpCallHandler.AllowedHostsVariable}: '{entry}' has no valid port (1 to 65535).");
                }

                port = p;
                entry = entry[..colon];
            }

            var subdomains = entry.StartsWith("*.", StringComparison.Ordinal);
            var host = subdomains ? entry[2..] : entry;
            if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            {
                throw new AgentException($"{HttpCallHandler.AllowedHostsVariable}: '{raw}' is not a host name, host:port, *.domain or *.domain:port.");
            }

            entries.Add((host.ToLowerInvariant(), subdomains, port));
        }

        return new HostAllowList(entries);
    }

    /// <summary>True when the agent may call <paramref name="url"/>'s host and port.</summary>
    public bool Allows(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (AllowsAll)
        {
            return true;
        }

        var host = url.IdnHost.ToLowerInvariant();
        foreach (var (allowed, subdomains, port) in _entries)
        {
            var nameMatches = subdomains ? host.EndsWith("." + allowed, StringComparison.Ordinal) : host == allowed;
            if (nameMatches && (port is null || port == url.Port))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => AllowsAll
        ? "every host"
        : string.Join(", ", _entries.Select(e => (e.Subdomains ? "*." : "") + e.Host + (e.Port is { } p ? ":" + p.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")));
}
