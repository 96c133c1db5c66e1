using System.Text;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>
/// An ordered list of name/value pairs (headers or query parameters). Headers compare names ignoring case, query
/// parameters ordinally. Not thread-safe: one per message.
/// </summary>
public sealed class NameValueList(StringComparer comparer) : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items = [];

    /// <summary>How names compare.</summary>
    public StringComparer Comparer { get; } = comparer;

    /// <summary>Number of pairs.</summary>
    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? this[string name] => IndexOf(name) is var i and >= 0 ? _items[i].Value : null;

    /// <summary>True when at least one pair has this name.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    private int IndexOf(string name)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            if (Comparer.Equals(_items[i].Key, name))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Every value of <paramref name="name"/>, in order.</summary>
    public IEnumerable<string> GetAll(string name) => _items.Where(i => Comparer.Equals(i.Key, name)).Select(i => i.Value);

    /// <summary>Replaces every value of <paramref name="name"/> with one, kept at the first one's position.</summary>
    public void Set(string name, string value)
    {
        var index = IndexOf(name);
        if (index >= 0)
        {
            Remove(name);
        }

        var pair = new KeyValuePair<string, string>(name, value);
        if (index < 0 || index > _items.Count)
        {
            _items.Add(pair);
        }
        else
        {
            _items.Insert(index, pair);
        }
    }

    /// <summary>Adds a pair at the end.</summary>
    public void Add(string name, string value) => _items.Add(new(name, value));

    /// <summary>Removes every pair.</summary>
    public void Clear() => _items.Clear();

    /// <summary>Removes every pair with this name; true when one was removed.</summary>
    public bool Remove(string name)
    {
        var removed = false;
        for (var i = _items.Count - 1; i >= 0; i--)
        {
            if (Comparer.Equals(_items[i].Key, name))
            {
                _items.RemoveAt(i);
                removed = true;
            }
        }

        return removed;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A copy.</summary>
    public NameValueList Clone()
    {
        var copy = new NameValueList(Comparer);
        copy._items.AddRange(_items);
        return copy;
    }
}

/// <summary>
/// The request Causeway sends to a connector's backend, built from the matched operation and changed by
/// credential injection and request policies. Mutable; one per call.
/// </summary>
public sealed class ApimRequest
{
    /// <summary>Upper-case HTTP method.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>Scheme, authority and base path, for example <c>https://api.example.com/v1</c> (no trailing '/').</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>The operation path after <see cref="BaseUrl"/>, starting with '/', already URL-encoded.</summary>
    public string Path { get; set; } = "/";

    /// <summary>Query parameters (values not encoded; <see cref="ToUri"/> encodes them).</summary>
    public NameValueList Query { get; } = new(StringComparer.Ordinal);

    /// <summary>Request headers.</summary>
    public NameValueList Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A JSON body, or null. Takes precedence over <see cref="RawBody"/>.</summary>
    public JsonNode? Json { get; set; }

    /// <summary>A non-JSON body, or null.</summary>
    public ReadOnlyMemory<byte>? RawBody { get; set; }

    /// <summary>The absolute URI to send: base URL + path + encoded query.</summary>
    public Uri ToUri()
    {
        var start = BaseUrl.AsSpan().TrimEnd('/');
        if (Query.Count == 0)
        {
            return new Uri(Path.StartsWith('/') ? string.Concat(start, Path) : string.Concat(start, "/", Path), UriKind.Absolute);
        }

        var sb = new StringBuilder().Append(start);
        sb.Append(Path.StartsWith('/') ? Path : "/" + Path);
        var first = true;
        foreach (var (k, v) in Query)
        {
            sb.Append(first ? '?' : '&').Append(Uri.EscapeDataString(k)).Append('=').Append(Uri.EscapeDataString(v));
            first = false;
        }

        return new Uri(sb.ToString(), UriKind.Absolute);
    }

    /// <summary>A deep copy (for side requests).</summary>
    public ApimRequest Clone()
    {
        var copy = new ApimRequest { Method = Method, BaseUrl = BaseUrl, Path = Path, Json = Json?.DeepClone(), RawBody = RawBody };
        foreach (var (k, v) in Query)
        {
            copy.Query.Add(k, v);
        }

        foreach (var (k, v) in Headers)
        {
            copy.Headers.Add(k, v);
        }

        return copy;
    }
}

/// <summary>The backend's answer, changed by response policies before it goes back to the caller. Mutable.</summary>
public sealed class ApimResponse
{
    /// <summary>HTTP status code.</summary>
    public int StatusCode { get; set; } = 200;

    /// <summary>Response headers.</summary>
    public NameValueList Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A JSON body, or null. Takes precedence over <see cref="RawBody"/>.</summary>
    public JsonNode? Json { get; set; }

    /// <summary>A non-JSON body, or null.</summary>
    public ReadOnlyMemory<byte>? RawBody { get; set; }
}
