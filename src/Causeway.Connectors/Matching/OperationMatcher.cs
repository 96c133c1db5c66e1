using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Causeway.Connectors;

/// <summary>Why a request matched no operation.</summary>
public enum MatchFailure
{
    /// <summary>No operation has this path (404).</summary>
    NotFound,
    /// <summary>The path exists for other methods (405).</summary>
    MethodNotAllowed,
    /// <summary>Required parameters are missing or values have the wrong type (400).</summary>
    InvalidParameters,
    /// <summary>The operation exists but Causeway cannot serve it, for example custom code (501).</summary>
    Unavailable,
}

/// <summary>A matched operation with its decoded path parameter values.</summary>
public sealed record OperationMatch(ConnectorOperation Operation, IReadOnlyDictionary<string, string> PathParameters);

/// <summary>A failed match: the kind, the HTTP status to answer and every problem found.</summary>
public sealed record MatchError(MatchFailure Kind, int StatusCode, string Message, IReadOnlyList<string> Problems);

/// <summary>The outcome of <see cref="OperationMatcher.Match"/>: exactly one of <see cref="Match"/> and <see cref="Error"/> is set.</summary>
public sealed record OperationMatchResult(OperationMatch? Match, MatchError? Error)
{
    /// <summary>True when an operation matched and its parameters are valid.</summary>
    public bool IsSuccess => Match is not null;
}

/// <summary>
/// Finds the operation for <c>method + path</c>, the part of the URL after <c>/apim/{connector}/{connectionId}</c>.
/// The path may be written with or without the swagger basePath. Literal segments compare ignoring case; a
/// <c>{name}</c> matches one segment (or part of one, as in <c>/items({id})</c>) and is URL-decoded once, twice for
/// <c>x-ms-url-encoding: double</c>; <c>{*name}</c> (built-in connectors only) matches the rest of the path. When
/// several templates match, the one with the most literal characters wins. Thread-safe.
/// </summary>
public static class OperationMatcher
{
    private static readonly ConditionalWeakTable<ConnectorDefinition, CompiledConnector> Compiled = new();

    /// <summary>Matches and validates the request.</summary>
    /// <param name="definition">The connector.</param>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The path after the connection id, starting with '/', still URL-encoded.</param>
    /// <param name="query">The query parameters (decoded), or null.</param>
    /// <param name="headers">The request headers, or null (then header parameters are not checked).</param>
    /// <param name="hasBody">True when the request carries a body.</param>
    public static OperationMatchResult Match(
        ConnectorDefinition definition,
        string method,
        string path,
        IEnumerable<KeyValuePair<string, string>>? query = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        bool hasBody = false) => Match(definition, method, path, query, headers, hasBody, everyTemplate: false);

    /// <summary>As the public overload; <paramref name="everyTemplate"/> tries every template (the reference for tests).</summary>
    internal static OperationMatchResult Match(
        ConnectorDefinition definition,
        string method,
        string path,
        IEnumerable<KeyValuePair<string, string>>? query,
        IEnumerable<KeyValuePair<string, string>>? headers,
        bool hasBody,
        bool everyTemplate)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var compiled = Compiled.GetValue(definition, static d => new CompiledConnector(d));
        var normalised = Normalise(path);
        // Paths match with or without a trailing slash; when a connector declares both forms, the one written as asked wins.
        var trailingSlash = normalised.Length > 1 && path.AsSpan(0, path.IndexOf('?') is var q and >= 0 ? q : path.Length).EndsWith("/", StringComparison.Ordinal);

        // The path without the basePath is tried first, then as written.
        var withoutBase = definition.BasePath.Length > 0 && normalised.Length > definition.BasePath.Length && normalised[definition.BasePath.Length] == '/'
            && normalised.StartsWith(definition.BasePath, StringComparison.OrdinalIgnoreCase)
            ? normalised[definition.BasePath.Length..]
            : null;

        (CompiledTemplate Template, Match Match)? best = null;
        SortedSet<string>? allowed = null;
        foreach (var candidate in withoutBase is null ? [normalised] : (string[])[withoutBase, normalised])
        {
            var templates = everyTemplate ? compiled.All : compiled.CandidatesFor(candidate);
            for (var i = 0; i < templates.Length; i++)
            {
                var t = templates[i];
                var m = t.Regex.Match(candidate);
                if (!m.Success)
                {
                    continue;
                }

                if (!string.Equals(t.Operation.Method, method, StringComparison.OrdinalIgnoreCase))
                {
                    (allowed ??= new SortedSet<string>(StringComparer.Ordinal)).Add(t.Operation.Method);
                    continue;
                }

                if (best is null || t.LiteralLength > best.Value.Template.LiteralLength
                    || (t.LiteralLength == best.Value.Template.LiteralLength && t.TrailingSlash == trailingSlash && best.Value.Template.TrailingSlash != trailingSlash))
                {
                    best = (t, m);
                }
            }

            if (best is not null)
            {
                break;
            }
        }

        if (best is null)
        {
            return allowed is { Count: > 0 }
                ? Fail(MatchFailure.MethodNotAllowed, 405, $"{method.ToUpperInvariant()} is not allowed on this path; allowed: {string.Join(", ", allowed)}")
                : Fail(MatchFailure.NotFound, 404, $"connector '{definition.Name}' has no operation for {method.ToUpperInvariant()} {path}");
        }

        var (template, match) = best.Value;
        var operation = template.Operation;
        var pathValues = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (group, name) in template.Groups)
        {
            var raw = match.Groups[group].Value;
            var parameter = operation.Parameters.FirstOrDefault(p => p.In == ParameterLocation.Path && p.Name == name);
            var value = Uri.UnescapeDataString(raw);
            if (parameter?.UrlEncoding == "double")
            {
                value = Uri.UnescapeDataString(value);
            }

            pathValues[name] = value;
            if (parameter is not null)
            {
                CheckType(parameter, value, problems);
            }
        }

        if (!operation.Availability.Available)
        {
            return Fail(MatchFailure.Unavailable, 501, $"operation '{operation.OperationId}' is unavailable: {operation.Availability.Reason}");
        }

        foreach (var p in operation.Parameters)
        {
            switch (p.In)
            {
                case ParameterLocation.Query:
                    Check(p, FirstValue(query, p.Name, StringComparison.Ordinal), problems);
                    break;
                case ParameterLocation.Header when headers is not null:
                    Check(p, FirstValue(headers, p.Name, StringComparison.OrdinalIgnoreCase), problems);
                    break;
                case ParameterLocation.Body or ParameterLocation.FormData when p.Required && !hasBody:
                    problems.Add($"{Where(p)} is required: the request has no body");
                    break;
            }
        }

        return problems.Count > 0
            ? new OperationMatchResult(null, new MatchError(MatchFailure.InvalidParameters, 400, $"operation '{operation.OperationId}': {string.Join("; ", problems)}", problems))
            : new OperationMatchResult(new OperationMatch(operation, pathValues), null);
    }

    private static string? FirstValue(IEnumerable<KeyValuePair<string, string>>? pairs, string name, StringComparison comparison)
    {
        foreach (var (key, value) in pairs ?? [])
        {
            if (string.Equals(key, name, comparison))
            {
                return value;
            }
        }

        return null;
    }

    private static OperationMatchResult Fail(MatchFailure kind, int status, string message) =>
        new(null, new MatchError(kind, status, message, [message]));

    private static string Where(OperationParameter p) => $"{p.In.ToString().ToLowerInvariant()} parameter '{p.Name}'";

    private static void Check(OperationParameter p, string? value, List<string> problems)
    {
        if (value is null)
        {
            // A required parameter with a default is filled in by BackendRequestFactory, as the designer would.
            if (p.Required && p.Default is null)
            {
                problems.Add($"{Where(p)} is required");
            }

            return;
        }

        CheckType(p, value, problems);
    }

    private static void CheckType(OperationParameter p, string value, List<string> problems)
    {
        var ok = p.Type switch
        {
            "integer" => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            "number" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            "boolean" => bool.TryParse(value, out _),
            _ => true,
        };
        if (!ok)
        {
            problems.Add($"{Where(p)} must be of type {p.Type}");
        }
    }

    private static string Normalise(string path)
    {
        var q = path.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            path = path[..q];
        }

        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }

        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    /// <summary>
    /// A connector's templates in a tree of their path segments: a literal segment is a named branch (compared ignoring
    /// case), a segment holding a parameter is the one branch that takes any segment, and a <c>{*name}</c> catch-all
    /// takes whatever follows. A path only reaches the templates whose branches its own segments follow, so a connector
    /// with hundreds of operations tries a few regular expressions per call, not all of them; the regular expressions
    /// still decide. Candidates are tried in the connector's order, which decides between equally specific templates.
    /// </summary>
    private sealed class CompiledConnector
    {
        // Connectors with at most this many operations try them all.
        private const int SmallConnector = 8;

        private readonly CompiledTemplate[] _all;
        private readonly Node _root = new();

        public CompiledConnector(ConnectorDefinition definition)
        {
            _all = definition.Operations.Select(o => new CompiledTemplate(o)).ToArray();
            for (var i = 0; i < _all.Length; i++)
            {
                var node = _root;
                var rest = false;
                foreach (var segment in Segments(Normalise(_all[i].Operation.PathTemplate)))
                {
                    if (segment.Contains("{*", StringComparison.Ordinal))
                    {
                        // A catch-all matches across segments: the template is a candidate for every path reaching here.
                        node.Rest.Add(i);
                        rest = true;
                        break;
                    }

                    // Non-ASCII literals follow the regular expressions' case rules, not OrdinalIgnoreCase's: any segment may reach them.
                    if (segment.Contains('{', StringComparison.Ordinal) || !Ascii.IsValid(segment))
                    {
                        node = node.Parameter ??= new Node();
                    }
                    else if (!node.Literals.TryGetValue(segment, out var child))
                    {
                        node = node.Literals[segment] = new Node();
                    }
                    else
                    {
                        node = child;
                    }
                }

                if (!rest)
                {
                    node.Ends.Add(i);
                }
            }
        }

        /// <summary>Every template, in the connector's order.</summary>
        public CompiledTemplate[] All => _all;

        /// <summary>The templates that may match a normalised path, in the connector's order.</summary>
        public CompiledTemplate[] CandidatesFor(string path)
        {
            if (_all.Length <= SmallConnector)
            {
                // Trying a few templates costs less than finding the branch.
                return _all;
            }

            var segments = Segments(path);
            foreach (var segment in segments)
            {
                if (!Ascii.IsValid(segment))
                {
                    // Outside ASCII the regular expressions' case rules are not OrdinalIgnoreCase's: let them decide.
                    return _all;
                }
            }

            var found = new List<int>();
            Collect(_root, segments, 0, found);
            if (found.Count > 1)
            {
                found.Sort();
            }

            var candidates = new CompiledTemplate[found.Count];
            for (var i = 0; i < candidates.Length; i++)
            {
                candidates[i] = _all[found[i]];
            }

            return candidates;
        }

        private static void Collect(Node node, string[] segments, int depth, List<int> found)
        {
            found.AddRange(node.Rest);
            if (depth == segments.Length)
            {
                found.AddRange(node.Ends);
                return;
            }

            if (node.Literals.TryGetValue(segments[depth], out var literal))
            {
                Collect(literal, segments, depth + 1, found);
            }

            if (node.Parameter is { } parameter)
            {
                Collect(parameter, segments, depth + 1, found);
            }
        }

        // "/a/b" → "a", "b"; "/" → ""; "" (what "//" normalises to) → "".
        private static string[] Segments(string path) => path.TrimStart('/').Split('/');

        private sealed class Node
        {
            public Dictionary<string, Node> Literals { get; } = new(StringComparer.OrdinalIgnoreCase);

            public Node? Parameter { get; set; }

            // Templates whose path ends here, and catch-all templates that take any rest from here on.
            public List<int> Ends { get; } = [];

            public List<int> Rest { get; } = [];
        }
    }

    private sealed class CompiledTemplate
    {
        public CompiledTemplate(ConnectorOperation operation)
        {
            Operation = operation;
            TrailingSlash = operation.PathTemplate.Length > 1 && operation.PathTemplate.EndsWith('/');
            var template = Normalise(operation.PathTemplate);
            var sb = new StringBuilder("^");
            var i = 0;
            var groups = new List<(string, string)>();
            while (i < template.Length)
            {
                var open = template.IndexOf('{', i);
                var close = open < 0 ? -1 : template.IndexOf('}', open);
                if (open < 0 || close < 0)
                {
                    sb.Append(Regex.Escape(template[i..]));
                    LiteralLength += template.Length - i;
                    break;
                }

                sb.Append(Regex.Escape(template[i..open]));
                LiteralLength += open - i;
                var name = template[(open + 1)..close];
                var group = "p" + groups.Count.ToString(CultureInfo.InvariantCulture);
                var wildcard = name.StartsWith('*');
                groups.Add((group, wildcard ? name[1..] : name));
                sb.Append("(?<").Append(group).Append(wildcard ? ">.*)" : ">[^/]+)");
                i = close + 1;
            }

            sb.Append("/?$");
            Groups = groups;
            Regex = new Regex(sb.ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }

        public ConnectorOperation Operation { get; }

        public Regex Regex { get; }

        public int LiteralLength { get; }

        /// <summary>True when the connector wrote this path with a trailing slash.</summary>
        public bool TrailingSlash { get; }

        public IReadOnlyList<(string Group, string Name)> Groups { get; }
    }
}
