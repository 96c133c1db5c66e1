using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Causeway.Security;

namespace Causeway.Agents;

/// <summary>The calls an agent makes to the server's REST API while it registers: HTTPS only, bearer token, problem details read back.</summary>
public static class AgentServer
{
    /// <summary>The server's address, refused unless it is an absolute https:// URL.</summary>
    public static Uri RequireHttps(string server) =>
        Uri.TryCreate(server, UriKind.Absolute, out var address) && address.Scheme == Uri.UriSchemeHttps
            ? address
            : throw new AgentException("--server must be an https:// URL (agents never talk plain HTTP).");

    /// <summary>The certificates to trust besides the system store (<c>--trust-certificate</c>).</summary>
    public static CertificateTrust LoadTrust(string? path)
    {
        try
        {
            return CertificateTrust.FromFile(path);
        }
        catch (Exception e) when (e is FileNotFoundException or CryptographicException)
        {
            throw new AgentException(e.Message, e);
        }
    }

    /// <summary>A client for the REST API with the caller's bearer token.</summary>
    public static HttpClient CreateClient(Uri server, CertificateTrust trust, string token)
    {
        var http = new HttpClient(trust.CreateHandler()) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>Sends one request and returns its JSON answer; a refusal becomes an <see cref="AgentException"/> with the server's detail.</summary>
    public static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new AgentException($"The server at {http.BaseAddress} cannot be reached: {e.Message}", e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new AgentException($"The server refused {method} {path}: {(int)response.StatusCode} {Detail(text) ?? response.ReasonPhrase}");
            }

            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private static string? Detail(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
