using System.Globalization;
using System.Text;

namespace Causeway.Flows;

/// <summary>
/// Conditions of <c>if</c> actions: comparisons (<c>== != &lt; &gt; &lt;= &gt;=</c>, <c>contains</c>) of variables and
/// literals joined with <c>and</c>, <c>or</c>, <c>not</c> and parentheses. Parsed once at save time so a bad condition
/// is rejected with the definition; evaluation never has side effects.
/// </summary>
internal abstract record Expression
{
    public abstract object? Evaluate(IReadOnlyDictionary<string, object?> variables);

    public abstract IEnumerable<VariablePath> References();

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> with a message naming the offset.</summary>
    public static Expression Parse(string text) => new Parser(text).ParseAll();

    public sealed record Literal(object? Value) : Expression
    {
        public override object? Evaluate(IReadOnlyDictionary<string, object?> variables) => Value;

        public override IEnumerable<VariablePath> References() => [];
    }

    public sealed record Variable(VariablePath Path) : Expression
    {
        public override object? Evaluate(IReadOnlyDictionary<string, object?> variables) => Path.Resolve(variables);

        public override IEnumerable<VariablePath> References() => [Path];
    }

    public sealed record Not(Expression Operand) : Expression
    {
        public override object? Evaluate(IReadOnlyDictionary<string, object?> variables) => !AsBoolean(Operand.Evaluate(variables), "not");

        public override IEnumerable<VariablePath> References() => Operand.References();
    }

    public sealed record Binary(string Operator, Expression Left, Expression Right) : Expression
    {
        public override object? Evaluate(IReadOnlyDictionary<string, object?> variables)
        {
            switch (Operator)
            {
                case "and":
                    return AsBoolean(Left.Evaluate(variables), "and") && AsBoolean(Right.Evaluate(variables), "and");
                case "or":
                    return AsBoolean(Left.Evaluate(variables), "or") || AsBoolean(Right.Evaluate(variables), "or");
            }

            var left = FlowValues.Unwrap(Left.Evaluate(variables));
            var right = FlowValues.Unwrap(Right.Evaluate(variables));
            return Operator switch
            {
                "==" => FlowValues.ValueEquals(left, right),
                "!=" => !FlowValues.ValueEquals(left, right),
                "contains" => Contains(left, right),
                _ => Compare(left, right) switch
                {
                    var c => Operator switch
                    {
                        "<" => c < 0,
                        ">" => c > 0,
                        "<=" => c <= 0,
                        _ => c >= 0,
                    },
                },
            };
        }

        public override IEnumerable<VariablePath> References() => Left.References().Concat(Right.References());

        private int Compare(object? left, object? right) => (left, right) switch
        {
            (double a, double b) => a.CompareTo(b),
            (string a, string b) => string.CompareOrdinal(a, b),
            _ => throw new FlowActionException(
                $"'{Operator}' compares two numbers or two strings, not a {FlowValues.TypeName(left)} and a {FlowValues.TypeName(right)}"),
        };

        private static bool Contains(object? left, object? right) => left switch
        {
            string s => s.Contains(FlowValues.ToText(right), StringComparison.Ordinal),
            List<object?> list => list.Any(item => FlowValues.ValueEquals(item, right)),
            Dictionary<string, object?> map => map.ContainsKey(FlowValues.ToText(right)),
            null => false,
            _ => throw new FlowActionException($"'contains' needs a string, list or object on its left, not a {FlowValues.TypeName(left)}"),
        };
    }

    private static bool AsBoolean(object? value, string op) => value is bool b
        ? b
        : throw new FlowActionException($"'{op}' needs true or false, not a {FlowValues.TypeName(value)}");

    private sealed class Parser(string text)
    {
        private static readonly string[] Operators = ["==", "!=", "<=", ">=", "<", ">"];
        private int _position;

        public Expression ParseAll()
        {
            var expression = ParseOr();
            SkipSpace();
            if (_position < text.Length)
            {
                throw Error($"unexpected '{text[_position]}'");
            }

            return expression;
        }

        private Expression ParseOr()
        {
            var left = ParseAnd();
            while (TryKeyword("or"))
            {
                left = new Binary("or", left, ParseAnd());
            }

            return left;
        }

        private Expression ParseAnd()
        {
            var left = ParseNot();
            while (TryKeyword("and"))
            {
                left = new Binary("and", left, ParseNot());
            }

            return left;
        }

        private Expression ParseNot() => TryKeyword("not") ? new Not(ParseNot()) : ParseComparison();

        private Expression ParseComparison()
        {
            var left = ParsePrimary();
            SkipSpace();
            foreach (var op in Operators)
            {
                if (string.CompareOrdinal(text, _position, op, 0, op.Length) == 0)
                {
                    _position += op.Length;
                    return new Binary(op, left, ParsePrimary());
                }
            }

            return TryKeyword("contains") ? new Binary("contains", left, ParsePrimary()) : left;
        }

        private Expression ParsePrimary()
        {
            SkipSpace();
            if (_position >= text.Length)
            {
                throw Error("an operand is missing");
            }

            var c = text[_position];
            if (c == '(')
            {
                _position++;
                var inner = ParseOr();
                SkipSpace();
                if (_position >= text.Length || text[_position] != ')')
                {
                    throw Error("')' is missing");
                }

                _position++;
                return inner;
            }

            if (c is '"' or '\'')
            {
                return new Literal(ReadString(c));
            }

            if (char.IsAsciiDigit(c) || (c == '-' && _position + 1 < text.Length && char.IsAsciiDigit(text[_position + 1])))
            {
                var start = _position++;
                while (_position < text.Length && (char.IsAsciiDigit(text[_position]) || text[_position] is '.' or 'e' or 'E'))
                {
                    _position++;
                }

                return double.TryParse(text.AsSpan(start, _position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? new Literal(number)
                    : throw Error($"'{text[start.._position]}' is not a number");
            }

            var percent = c == '%';
            var begin = percent ? ++_position : _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '_' or '.' or '[' or ']'))
            {
                _position++;
            }

            var word = text[begin.._position];
            if (percent)
            {
                if (_position >= text.Length || text[_position] != '%')
                {
                    throw Error("a '%' reference is not closed");
                }

                _position++;
            }
            else
            {
                switch (word)
                {
                    case "true":
                        return new Literal(true);
                    case "false":
                        return new Literal(false);
                    case "null":
                        return new Literal(null);
                    case "":
                        throw Error($"unexpected '{c}'");
                    case "and" or "or" or "not" or "contains":
                        throw Error($"'{word}' needs an operand before it");
                }
            }

            return VariablePath.TryParse(word, out var error) is { } path ? new Variable(path) : throw Error(error!);
        }

        private string ReadString(char quote)
        {
            var builder = new StringBuilder();
            _position++;
            while (_position < text.Length && text[_position] != quote)
            {
                if (text[_position] == '\\' && _position + 1 < text.Length)
                {
                    _position++;
                }

                builder.Append(text[_position++]);
            }

            if (_position >= text.Length)
            {
                throw Error("a string is not closed");
            }

            _position++;
            return builder.ToString();
        }

        private bool TryKeyword(string keyword)
        {
            SkipSpace();
            var end = _position + keyword.Length;
            if (string.CompareOrdinal(text, _position, keyword, 0, keyword.Length) == 0
                && (end >= text.Length || !(char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_')))
            {
                _position = end;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private FormatException Error(string message) =>
            new($"{message} at character {(_position + 1).ToString(CultureInfo.InvariantCulture)} of '{text}'");
    }
}

/// <summary>
/// Strings with <c>%reference%</c> placeholders (<c>%%</c> is a literal percent sign). A string that is exactly one
/// placeholder keeps the referenced value's type (a list stays a list); otherwise each value is turned into text.
/// </summary>
internal sealed class Template
{
    private readonly List<object> _parts; // string literal or VariablePath

    private Template(List<object> parts) => _parts = parts;

    public IEnumerable<VariablePath> References() => _parts.OfType<VariablePath>();

    public bool HasReferences => _parts.Any(p => p is VariablePath);

    public static Template Parse(string text)
    {
        var parts = new List<object>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                literal.Append(text[i]);
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '%')
            {
                literal.Append('%');
                i++;
                continue;
            }

            var close = text.IndexOf('%', i + 1);
            if (close < 0)
            {
                throw new FormatException($"the '%' at character {(i + 1).ToString(CultureInfo.InvariantCulture)} is not closed (write '%%' for a literal percent sign)");
            }

            var path = VariablePath.TryParse(text[(i + 1)..close], out var error) ?? throw new FormatException(error);
            if (literal.Length > 0)
            {
                parts.Add(literal.ToString());
                literal.Clear();
            }

            parts.Add(path);
            i = close;
        }

        if (literal.Length > 0 || parts.Count == 0)
        {
            parts.Add(literal.ToString());
        }

        return new Template(parts);
    }

    public object? Evaluate(IReadOnlyDictionary<string, object?> variables)
    {
        if (_parts is [VariablePath single])
        {
            return single.Resolve(variables);
        }

        var builder = new StringBuilder();
        foreach (var part in _parts)
        {
            builder.Append(part is VariablePath path ? FlowValues.ToText(path.Resolve(variables)) : (string)part);
        }

        return builder.ToString();
    }

    public string EvaluateText(IReadOnlyDictionary<string, object?> variables) => FlowValues.ToText(Evaluate(variables));
}
