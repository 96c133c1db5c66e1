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
    private static readonly (string Name, Dictionary<string, string> Options)[] Queries =
    [
        ("$filter eq", new() { ["$filter"] = "name eq 'Hammer 42'" }),
        ("$filter contains", new() { ["$filter"] = "contains(name,'ham')" }),
        ("$orderby+$top", new() { ["$orderby"] = "price desc,name", ["$top"] = "50" }),
        ("$expand", new() { ["$expand"] = "category($select=name)", ["$select"] = "name,price" }),
        ("$select+$count", new() { ["$select"] = "name,price", ["$count"] = "true" }),
    ];

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
        var lines = new List<string>();
        foreach (var dialect in new[] { SqlDialect.Sqlite, SqlDialect.PostgreSql })
        {
            var dialectName = dialect == SqlDialect.Sqlite ? "SQLite" : "PostgreSQL";
            var engine = new DataEngine(Schema, dialect);
            foreach (var (name, options) in Queries)
            {
                var cached = new QueryLimits { PageSize = 500, AllowSkip = false };
                var sql = engine.ParseQuery("products", null, options, cached).Sql;

                // Warm-up: JIT and ODL's own lazy state.
                var counter = 0;
                Measure(2_000, () => engine.ParseQuery("products", null, options, new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false }));
                Measure(20_000, () => engine.ParseQuery("products", null, options, cached));

                var miss = Median(Enumerable.Range(0, 5).Select(_ => Measure(1_000, () => engine.ParseQuery("products", null, options, new QueryLimits { PageSize = 1 + (counter++ % 4000), AllowSkip = false }))));
                var hit = Median(Enumerable.Range(0, 5).Select(_ => Measure(100_000, () => engine.ParseQuery("products", null, options, cached))));
                var fresh = Median(Enumerable.Range(0, 5).Select(_ => Measure(50, () => new DataEngine(Schema, dialect).ParseQuery("products", null, options, cached))));
                var line = $"translate {dialectName,-10} {name,-17} miss {miss.Cpu,7:N1} µs cpu ({miss.Wall,7:N1} wall)  cached {hit.Cpu,5:N2} µs cpu ({hit.Wall,5:N2} wall)  fresh engine {fresh.Cpu,7:N1} µs cpu ({fresh.Wall,7:N1} wall)  target <20 µs (cpu): miss {(miss.Cpu < 20 ? "met" : "MISSED")}, cached {(hit.Cpu < 20 ? "met" : "MISSED")}";
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
