using Microsoft.Extensions.Options;

namespace Causeway.ApiManagement;

/// <summary>
/// The one HTTP client every backend call goes through: a single <see cref="SocketsHttpHandler"/> with pooled connections
/// (recycled every few minutes so DNS changes are seen), no redirects followed, no cookies, no decompression (bodies pass
/// through as the backend wrote them). Applies <see cref="ApiManagementOptions.BackendOverrides"/>. Thread-safe.
/// </summary>
internal sealed class BackendClient : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    // Host name → the override's scheme, authority and base path, ready to prefix a request's path and query.
    private readonly Dictionary<string, string> _overrides;

    public BackendClient(IOptions<ApiManagementOptions> options)
    {
        var o = options.Value;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(o.ConnectTimeoutSeconds),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        }, disposeHandler: true);
        _overrides = o.BackendOverrides.ToDictionary(p => p.Key.Split(':')[0], p => Prefix(new Uri(p.Value.TrimEnd('/') + "/")), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The URI to connect to and the Host header to send (the original authority when overridden, else null).</summary>
    public (Uri Target, string? Host) Resolve(Uri uri)
    {
        if (!_overrides.TryGetValue(uri.Host, out var prefix))
        {
            return (uri, null);
        }

        return (new Uri(prefix + uri.PathAndQuery), uri.Authority);
    }

    private static string Prefix(Uri target) => $"{target.Scheme}://{target.Authority}{target.AbsolutePath.TrimEnd('/')}";

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _invoker.SendAsync(request, cancellationToken);

    public void Dispose() => _invoker.Dispose();
}
