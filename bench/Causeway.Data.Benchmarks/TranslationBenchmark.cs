using System.Diagnostics;

namespace Causeway.Data.Benchmarks;

/// <summary>
/// Parse + translate time of typical queries with a Stopwatch loop (warm-up, then rounds of many iterations; the
/// median round is reported): a plan-cache miss on a warm engine (the page size in the limits changes every
/// iteration, so the cache key never repeats), a hit (identical request), and a fresh engine's first query (EDM
/// model build included).
/// </summary>
internal static class TranslationBenchmark
{
    private static readonly (string Name, Dictionary<string, string> Options, bool ByKey)[] Queries =
    [
        ("$filter eq", new() { ["$filter"] = "name eq 'Hammer 42'" }, false),
        ("$filter contains", new() { ["$filter"] = "contains(name,'ham')" }, false),
        ("$orderby+$top", new() { ["$orderby"] = "price desc,name", ["$top"] = "50" }, false),
        ("$expand", new() { ["$expand"] = "category($select=name)", ["$select"] = "name,price" }, false),
        ("$select+$count", new() { ["$select"] = "name,price", ["$count"] = "true" }, false),
        ("by key $select", new() { ["$select"] = "name,price" }, true),
    ];

    private static readonly string[] Keys = Enumerable.Range(0, 4096).Select(_ => Guid.NewGuid().ToString("D")).ToArray();

    public static DataSchema Schema { get; } = new(
        [
            new TableSchema("category", "categories",
                [new ColumnSchema("categoryid", DataType.Guid, Nullable: false), new ColumnSchema("name", DataType.String, Nullable: false, MaxLength: 50), new ColumnSchema("versionnumber", DataType.Int64, Nullable: false, ReadOnly: true, HasDefault: true)],
                ["categoryid"], "versionnumber"),
            new TableSchema("product", "products",
                [
                    new ColumnSchema("productid", DataType.Guid, Nullable: false),
                    new ColumnSchema("name", DataType.String, Nullable: false, MaxLength: 100),
                    new ColumnSchema("price", DataType.Decimal),
                    new ColumnSchema("color", DataType.Int32),
                    new ColumnSchema("categoryid", DataType.Guid),
                    new ColumnSchema("versionnumber", DataType.Int64, Nullable: false, ReadOnly: true, HasDefault: true),
                ],
                ["productid"], "versionnumber"),
        ],
        [new RelationshipSchema("product_category", "product", "categoryid", "category", "categoryid", "category", "products")]);

    public static IReadOnlyList<string> Run(TextWriter output)
    {
        // Warm-up of every query in every mode first, so tiered JIT has compiled the hot paths before anything is timed.
        var warm = Stopwatch.StartNew();
        var counter = 0;
        while (warm.Elapsed < TimeSpan.FromSeconds(3))
        {
            foreach (var dialect in new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql })
            {
                var engine = new DataEngine(Schema, dialect);
                foreach (var (_, options, byKey) in Queries)
                {
                    for (var i = 0; i < 200; i++)
                    {
                        var limits = new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false };
                        engine.ParseQuery("products", byKey ? Keys[i % Keys.Length] : null, options, limits);
                        engine.ParseQuery("products", byKey ? Keys[(i + 1) % Keys.Length] : null, options, limits);
                    }
                }
            }
        }

        var lines = new List<string>();
        foreach (var dialect in new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql })
        {
            var dialectName = dialect == SqlDialect.Sqlite ? "SQLite" : "PostgreSQL";
            var engine = new DataEngine(Schema, dialect);
            foreach (var (name, options, byKey) in Queries)
            {
                var cached = new QueryLimits { PageSize = 500, AllowSkip = false };
                string? Key() => byKey ? Keys[counter++ % Keys.Length] : null;
                engine.ParseQuery("products", Key(), options, cached);
                var sql = engine.ParseQuery("products", Key(), options, cached).Sql;

                // Warm-up of this query: JIT and ODL's own lazy state.
                Measure(2_000, () => engine.ParseQuery("products", Key(), options, new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false }));
                Measure(20_000, () => engine.ParseQuery("products", Key(), options, cached));

                // A miss on first sight (translated, not stored); a second sight of the same request (translated and stored)
                // is the pair's time less the first sight's; a hit (for by-key reads: another key each call, parsed by ODL).
                var miss = Median(Enumerable.Range(0, 5).Select(_ => Measure(1_000, () => engine.ParseQuery("products", Key(), options, new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false }))));
                var pair = Median(Enumerable.Range(0, 5).Select(_ => Measure(1_000, () =>
                {
                    var limits = new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false };
                    engine.ParseQuery("products", Key(), options, limits);
                    return engine.ParseQuery("products", Key(), options, limits);
                })));
                var stored = (Cpu: pair.Cpu - miss.Cpu, Wall: pair.Wall - miss.Wall);
                var hit = Median(Enumerable.Range(0, 5).Select(_ => Measure(100_000, () => engine.ParseQuery("products", Key(), options, cached))));
                var fresh = Median(Enumerable.Range(0, 5).Select(_ => Measure(50, () => new DataEngine(Schema, dialect).ParseQuery("products", Key(), options, cached))));
                var line = $"translate {dialectName,-10} {name,-17} miss {miss.Cpu,6:N1} µs cpu ({miss.Wall,6:N1} wall)  miss+store {stored.Cpu,6:N1} ({stored.Wall,6:N1})  cached {hit.Cpu,5:N2} ({hit.Wall,5:N2})  fresh engine {fresh.Cpu,6:N1} ({fresh.Wall,6:N1})  target <20 µs (cpu): miss {(miss.Cpu < 20 ? "met" : "MISSED")}, miss+store {(stored.Cpu < 20 ? "met" : "MISSED")}, cached {(hit.Cpu < 20 ? "met" : "MISSED")}";
                output.WriteLine(line);
                lines.Add(line);
                if (dialect == SqlDialect.PostgreSql && name == "$expand")
                {
                    output.WriteLine($"  sql: {sql}");
                }
            }
        }

        return lines;
    }

    /// <summary>
    /// Where a cache miss goes: ODL's parser alone (parse of every option into semantic trees), the translator without
    /// the cache (ODL + SQL), the cache key alone, and the engine's miss (all of it). CPU µs per call, median of 5 rounds.
    /// </summary>
    public static void Profile(TextWriter output)
    {
        foreach (var dialect in new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql })
        {
            var engine = new DataEngine(Schema, dialect);
            engine.Mapping.TryGetEntitySet("products", out _, out var set, out var type);
            foreach (var (name, options, byKey) in Queries)
            {
                var limits = new QueryLimits { PageSize = 500, AllowSkip = false };
                var key = byKey ? Keys[0] : null;
                var counter = 0;
                QueryPlan Odl()
                {
                    var parser = new Microsoft.OData.UriParser.ODataQueryOptionParser(engine.Model, type, set, new Dictionary<string, string>(options));
                    parser.Settings.MaximumExpansionDepth = 3;
                    parser.Settings.MaximumExpansionCount = 15;
                    GC.KeepAlive(parser.ParseFilter());
                    GC.KeepAlive(parser.ParseOrderBy());
                    GC.KeepAlive(parser.ParseSelectAndExpand());
                    GC.KeepAlive(parser.ParseTop());
                    GC.KeepAlive(parser.ParseSkip());
                    GC.KeepAlive(parser.ParseCount());
                    return null!;
                }

                QueryPlan Translator() => new QueryTranslator(engine.Mapping, dialect, limits).Translate("products", key, options);
                QueryPlan Key()
                {
                    GC.KeepAlive(DataEngine.CacheKey("products", byKey, options, limits));
                    return null!;
                }

                QueryPlan Miss() => engine.ParseQuery("products", key, options, new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false });
                var parts = new (string Part, Func<QueryPlan> Call)[] { ("odl", Odl), ("translator", Translator), ("key", Key), ("miss", Miss) };
                var text = new System.Text.StringBuilder($"profile {dialect.Name,-10} {name,-17}");
                foreach (var (part, call) in parts)
                {
                    Measure(2_000, call);
                    var gcs = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
                    var cpu = Median(Enumerable.Range(0, 5).Select(_ => Measure(1_000, call)));
                    text.Append($"  {part} {cpu.Cpu,6:N1}");
                    if (part == "miss")
                    {
                        text.Append($" (gc per 5000 calls: {GC.CollectionCount(0) - gcs.Item1}/{GC.CollectionCount(1) - gcs.Item2}/{GC.CollectionCount(2) - gcs.Item3}, pause {(GC.GetTotalPauseDuration() - gcs.Item4).TotalMicroseconds / 5000:N1} µs/call)");
                    }
                }

                output.WriteLine(text.Append(" µs cpu").ToString());
            }
        }
    }

    /// <summary>
    /// Mean microseconds per call over <paramref name="iterations"/> calls: this thread's CPU time (immune to the
    /// time other processes hold the cores; GC work done on this thread is included) and wall-clock time.
    /// </summary>
    private static (double Cpu, double Wall) Measure(int iterations, Func<QueryPlan> call)
    {
        QueryPlan? last = null;
        var cpu = ThreadCpuMicroseconds();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            last = call();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuElapsed = ThreadCpuMicroseconds() - cpu;
        GC.KeepAlive(last);
        return (cpuElapsed / iterations, elapsed.TotalMicroseconds / iterations);
    }

    private static (double Cpu, double Wall) Median(IEnumerable<(double Cpu, double Wall)> values)
    {
        var all = values.ToArray();
        var cpu = all.Select(v => v.Cpu).Order().ToArray();
        var wall = all.Select(v => v.Wall).Order().ToArray();
        return (cpu[cpu.Length / 2], wall[wall.Length / 2]);
    }

    private static double ThreadCpuMicroseconds()
    {
        const int ClockThreadCpuTime = 3;
        return ClockGetTime(ClockThreadCpuTime, out var time) == 0 ? (time.Seconds * 1e6) + (time.Nanoseconds / 1e3) : double.NaN;
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code for the out struct; this is one call per measurement.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);
#pragma warning restore SYSLIB1054

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
