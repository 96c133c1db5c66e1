using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Causeway.Data.Tests;

/// <summary>
/// Thousands of generated and hostile $filter strings: the engine must either refuse them with a
/// <see cref="DataRequestException"/> or produce SQL in which nothing from the input's literals appears.
/// </summary>
public sealed partial class FilterFuzzTests
{
    // Every generated literal carries this marker; it can only reach the SQL text if a value was concatenated.
    private const string Marker = "ZQXJ";

    private static readonly string[] Hostile =
    [
        "'; DROP TABLE product; --", "/* comment */", "--", ";", "\" OR 1=1 --", "') OR ('1'='1", "\\", "%", "_", "[x]", "`",
        "\u0000", "\u202e", "ü日本語", "😀", "$1", "@p0", "?", ":name", "\r\n", "''", "' || '", "'+'", "0x41", "CHAR(39)",
    ];

    private static readonly string[] StringProps = ["name", "category/name"];
    private static readonly string[] NumberProps = ["price", "categoryid", "versionnumber"];
    private static readonly string[] Operators = ["eq", "ne", "gt", "ge", "lt", "le"];

    [Fact]
    public void ParseQuery_GeneratedAndHostileFilters_RefuseCleanlyOrParameterizeEveryValue()
    {
        var random = new Random(20261121);
        var engines = new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql, SqlDialect.SqlServer }.Select(d => new DataEngine(TestSchema.Create(), d)).ToArray();
        var watch = Stopwatch.StartNew();
        var accepted = 0;
        var refused = 0;
        for (var i = 0; i < 2500; i++)
        {
            var filter = i % 5 == 4 ? Garbage(random) : Expression(random, 0);
            foreach (var engine in engines)
            {
                try
                {
                    var plan = engine.ParseQuery("products", null, new Dictionary<string, string> { ["$filter"] = filter }, new QueryLimits());
                    accepted++;
                    Assert.DoesNotContain(Marker, plan.Sql, StringComparison.Ordinal);
                    foreach (var hostile in Hostile.Where(h => h.Length > 2 && h != "@p0"))
                    {
                        Assert.DoesNotContain(hostile, plan.Sql, StringComparison.Ordinal);
                    }

                    // The only quoted strings the engine ever writes are its own fixed ones.
                    var withoutFixed = FixedLiterals().Replace(plan.Sql, string.Empty);
                    Assert.DoesNotContain("'", withoutFixed, StringComparison.Ordinal);
                    Assert.DoesNotContain("--", plan.Sql, StringComparison.Ordinal);
                    Assert.DoesNotContain("/*", plan.Sql, StringComparison.Ordinal);
                    Assert.DoesNotContain(";", plan.Sql, StringComparison.Ordinal);
                }
                catch (DataRequestException ex)
                {
                    refused++;
                    Assert.Equal(400, ex.StatusCode);
                }
            }
        }

        Assert.True(accepted > 1800, $"only {accepted} generated filters were accepted: the generator has drifted from the grammar");
        Assert.True(refused > 300, $"only {refused} filters were refused: garbage generation is not reaching the parser");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"fuzzing took {watch.Elapsed}");
    }

    private static string Literal(Random random)
    {
        var text = new StringBuilder(Marker);
        for (var n = random.Next(0, 3); n >= 0; n--)
        {
            text.Append(Hostile[random.Next(Hostile.Length)]);
        }

        return "'" + text.ToString().Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static string Expression(Random random, int depth)
    {
        if (depth < 4 && random.Next(3) == 0)
        {
            var joiner = random.Next(2) == 0 ? " and " : " or ";
            var left = Expression(random, depth + 1);
            var right = Expression(random, depth + 1);
            return random.Next(4) == 0 ? $"not ({left}{joiner}{right})" : $"({left}{joiner}{right})";
        }

        var s = StringProps[random.Next(StringProps.Length)];
        var number = NumberProps[random.Next(NumberProps.Length)];
        return random.Next(12) switch
        {
            0 => $"{s} {Operators[random.Next(Operators.Length)]} {Literal(random)}",
            1 => $"contains({s},{Literal(random)})",
            2 => $"startswith(tolower({s}),{Literal(random)})",
            3 => $"endswith(concat({s},{Literal(random)}),{Literal(random)})",
            4 => $"{number} {Operators[random.Next(Operators.Length)]} {random.Next(-5000, 5000)}",
            5 => $"{number} add {random.Next(100)} mul 2 gt {random.NextDouble() * 100:0.00}",
            6 => $"{s} in ({Literal(random)},{Literal(random)})",
            7 => $"indexof({s},{Literal(random)}) eq {random.Next(5)}",
            8 => $"substring({s},{random.Next(3)}) eq {Literal(random)}",
            9 => $"year(created) eq {random.Next(1990, 2030)} and created lt {2000 + random.Next(30)}-01-02T03:04:05Z",
            10 => $"category/products/any(p: p/name eq {Literal(random)})",
            _ => $"{s} eq null or length(trim(toupper({s}))) gt {random.Next(50)}",
        };
    }

    private static string Garbage(Random random)
    {
        var alphabet = "()'\"; -/*\\$@?:,.=<>!&|ander or not eq gt 0123456789 name price ü😀\u0000\u202e";
        var text = new StringBuilder();
        if (random.Next(4) == 0)
        {
            text.Append('(', random.Next(30, 3000));
        }

        for (var n = random.Next(1, 80); n > 0; n--)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return Marker + text;
    }

    [GeneratedRegex("'(%[YmdHMS]|\\[\\])'")]
    private static partial Regex FixedLiterals();
}

public sealed class FilterLiteralPropertyTests
{
    [Fact]
    public void ParseQuery_AnyStringLiteral_BecomesOneParameterWithTheExactValue()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.PostgreSql);
        var property = FsCheck.Fluent.Prop.ForAll<string>(value =>
        {
            if (value is null)
            {
                return true;
            }

            var literal = "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
            try
            {
                var plan = engine.ParseQuery("products", null, new Dictionary<string, string> { ["$filter"] = $"name eq {literal}" });
                return plan.Parameters.Count == 2 && Equals(plan.Parameters[0].Value, value) && !plan.Sql.Contains(literal, StringComparison.Ordinal);
            }
            catch (DataRequestException ex)
            {
                return ex.StatusCode == 400;
            }
        });
        FsCheck.Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(2000), property);
    }
}
