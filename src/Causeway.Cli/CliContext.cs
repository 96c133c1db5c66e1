using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Security;

namespace Causeway.Cli;

/// <summary>Thrown for a failure the user must see as one line; never carries a secret.</summary>
public sealed class CliException(string message) : Exception(message);

/// <summary>The login profile: where the server is and how to reach it.</summary>
public sealed record Profile(string Url, string Token, string? TrustCertificate);

/// <summary>Output writers, the profile, and a way to call the server.</summary>
public sealed class CliContext(TextWriter output, TextWriter error)
{
    internal static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Standard output.</summary>
    public TextWriter Output { get; } = output;

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; } = error;

    /// <summary>Where <c>causeway login</c> keeps its profile: $CAUSEWAY_PROFILE or ~/.causeway/profile.json.</summary>
    public static string ProfilePath =>
        Environment.GetEnvironmentVariable("CAUSEWAY_PROFILE") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".causeway", "profile.json");

    /// <summary>Runs a command body: CliException and connection failures become one line on stderr and exit code 1.</summary>
    public async Task<int> RunAsync(Func<Task> body)
    {
        try
        {
            await body();
            return 0;
        }
        catch (CliException e)
        {
            await Error.WriteLineAsync($"causeway: {e.Message}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            await Error.WriteLineAsync($"causeway: cannot reach the server: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}");
            return 1;
        }
        catch (TaskCanceledException)
        {
            await Error.WriteLineAsync("causeway: the server did not answer in time.");
            return 1;
        }
    }

    /// <summary>Resolves URL, token and trust from options, environment and profile (in that order).</summary>
    public static Profile Resolve(ParseResult parse, bool requireToken = true)
    {
        var saved = LoadProfile();
        var url = parse.GetValue(CliApp.Url) ?? Environment.GetEnvironmentVariable("CAUSEWAY_URL") ?? saved?.Url
            ?? throw new CliException("no server given: pass --url, set CAUSEWAY_URL, or run 'causeway login'.");
        var token = parse.GetValue(CliApp.Token) ?? Environment.GetEnvironmentVariable("CAUSEWAY_TOKEN") ?? saved?.Token;
        if (requireToken && string.IsNullOrEmpty(token))
        {
            throw new CliException("no token given: pass --token, set CAUSEWAY_TOKEN, or run 'causeway login'.");
        }

        var trust = parse.GetValue(CliApp.TrustCertificate) ?? Environment.GetEnvironmentVariable("CAUSEWAY_TRUST_CERTIFICATE") ?? saved?.TrustCertificate;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new CliException($"'{url}' is not an https URL.");
        }

        return new Profile(url.TrimEnd('/'), token ?? "", trust is null ? null : Path.GetFullPath(trust));
    }

    /// <summary>The saved profile, or null.</summary>
    public static Profile? LoadProfile()
    {
        var path = ProfilePath;
        return File.Exists(path) ? JsonSerializer.Deserialize<Profile>(File.ReadAllText(path), new JsonSerializerOptions(JsonSerializerDefaults.Web)) : null;
    }

    /// <summary>Sends a request and returns the JSON answer (null for 204); a problem answer becomes a CliException with its detail.</summary>
    public static async Task<JsonNode?> SendAsync(Profile profile, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var content = body is null ? null
            : new StringContent(JsonSerializer.Serialize(body, new JsonSerializerOptions(JsonSerializerDefaults.Web)), Encoding.UTF8, "application/json");
        var text = await SendRawAsync(profile, method, path, content, cancellationToken);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Sends a request and returns the answer's text; a problem answer becomes a CliException with its detail.</summary>
    public static async Task<string> SendRawAsync(Profile profile, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        CertificateTrust trust;
        try
        {
            trust = CertificateTrust.FromFile(profile.TrustCertificate);
        }
        catch (Exception e) when (e is FileNotFoundException or System.Security.Cryptography.CryptographicException)
        {
            throw new CliException(e.Message);
        }

        using var client = new HttpClient(trust.CreateHandler()) { Timeout = TimeSpan.FromSeconds(100) };
        using var request = new HttpRequestMessage(method, profile.Url + path) { Content = content };
        if (profile.Token.Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", profile.Token);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            string? detail = null;
            try
            {
                var problem = JsonNode.Parse(text);
                detail = problem?["detail"]?.GetValue<string>() ?? problem?["title"]?.GetValue<string>();
            }
            catch (JsonException)
            {
            }

            throw new CliException($"{(int)response.StatusCode} {response.ReasonPhrase}: {detail ?? "the server gave no detail."}");
        }

        return text;
    }

    /// <summary>Prints JSON (with --json) or a table of the named columns.</summary>
    public async Task PrintAsync(ParseResult parse, JsonNode? node, params (string Header, string Path)[] columns)
    {
        if (parse.GetValue(CliApp.Json))
        {
            await Output.WriteLineAsync(node?.ToJsonString(Pretty) ?? "null");
            return;
        }

        var rows = node is JsonArray array ? array.Select(n => n!).ToList() : node is null ? [] : [node];
        await Output.WriteAsync(Table.Format(columns.Select(c => c.Header).ToArray(), rows.Select(r => columns.Select(c => Table.Value(r, c.Path)).ToArray()).ToList()));
    }
}

/// <summary>Plain aligned text tables for people.</summary>
internal static class Table
{
    public static string Value(JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (var part in path.Split('.'))
        {
            current = current?[part];
        }

        return current switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => current.ToJsonString(),
        };
    }

    public static string Format(string[] headers, List<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        Line(headers);
        Line(widths.Select(w => new string('-', w)).ToArray());
        rows.ForEach(Line);
        return text.ToString();
    }
}
