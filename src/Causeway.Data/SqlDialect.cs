using System.Globalization;
using System.Text;

namespace Causeway.Data;

/// <summary>
/// What differs between databases: identifier quoting, functions, paging, JSON aggregation and the CLR values
/// parameters carry. The three instances are the only ones; the members are internal so that every SQL fragment
/// the engine emits is one it has tested.
/// </summary>
public abstract class SqlDialect
{
    private protected SqlDialect()
    {
    }

    /// <summary>SQLite 3.35 or later (RETURNING, window functions, json1, ORDER BY in aggregates needs 3.44).</summary>
    public static SqlDialect Sqlite { get; } = new SqliteDialect();

    /// <summary>PostgreSQL 12 or later.</summary>
    public static SqlDialect PostgreSql { get; } = new PostgreSqlDialect();

    /// <summary>SQL Server 2017 or later (text only: the engine emits T-SQL, it ships no SQL Server driver).</summary>
    public static SqlDialect SqlServer { get; } = new SqlServerDialect();

    /// <summary>Short name: sqlite, postgresql or sqlserver.</summary>
    public abstract string Name { get; }

    /// <inheritdoc />
    public override string ToString() => Name;

    internal virtual string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    internal string QualifiedTable(TableSchema table) => table.Schema is null ? Quote(table.Name) : Quote(table.Schema) + "." + Quote(table.Name);

    internal abstract string TrueLiteral { get; }

    /// <summary>
    /// One ORDER BY term with OData's null order: null before every value ascending, after every value descending.
    /// SQLite and SQL Server sort NULL as the lowest value, which is exactly that, so the plain term is emitted (and an
    /// index on the expression can serve the order); PostgreSQL sorts NULL as the highest value and says so explicitly.
    /// </summary>
    internal virtual string OrderTerm(string expression, bool descending, bool nullable) => expression + (descending ? " DESC" : " ASC");

    /// <summary>Appends LIMIT/OFFSET (or OFFSET/FETCH) after ORDER BY; both are parameters.</summary>
    internal abstract void AppendPaging(StringBuilder sql, string? limitParameter, string? offsetParameter);

    internal virtual string TopClause(string? limitParameter) => string.Empty;

    internal abstract string Contains(string text, string part);

    internal abstract string StartsWith(string text, string part);

    internal abstract string EndsWith(string text, string part);

    internal abstract string IndexOf(string text, string part);

    internal abstract string Length(string text);

    internal abstract string Substring(string text, string start, string? length);

    internal abstract string Concat(string left, string right);

    internal virtual string Trim(string text) => $"TRIM({text})";

    internal abstract string DatePart(string part, string value);

    internal abstract string DateOf(string value);

    internal virtual string Round(string value) => $"ROUND({value})";

    internal virtual string Floor(string value) => $"FLOOR({value})";

    internal virtual string Ceiling(string value) => $"CEILING({value})";

    /// <summary>Scalar subquery text producing a JSON array of rows (each row a JSON array of columns), '[]' when empty.</summary>
    internal abstract string JsonArrayOfRows(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson, string rowNumberAlias);

    /// <summary>Scalar subquery producing one JSON row (array of columns) or NULL.</summary>
    internal abstract string JsonSingleRow(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson);

    /// <summary>Whether the JSON for a row is an object keyed by alias rather than an array.</summary>
    internal virtual bool JsonRowsAreObjects => false;

    /// <summary>Converts a canonical CLR value (see <see cref="DataType"/>) into what this provider binds best.</summary>
    internal virtual object ToProviderValue(object? value, DataType type) => value ?? DBNull.Value;

    /// <summary>Appends the clause that returns columns from INSERT/UPDATE (RETURNING or OUTPUT).</summary>
    internal virtual string Returning(IReadOnlyList<string> quotedColumns, bool inserted) => " RETURNING " + string.Join(", ", quotedColumns);

    internal virtual bool OutputBeforeValues => false;

    internal virtual string ParameterName(int index) => "@p" + index.ToString(CultureInfo.InvariantCulture);
}

internal sealed class SqliteDialect : SqlDialect
{
    public override string Name => "sqlite";

    internal override string TrueLiteral => "1";

    internal override void AppendPaging(StringBuilder sql, string? limitParameter, string? offsetParameter)
    {
        if (limitParameter is null && offsetParameter is null)
        {
            return;
        }

        sql.Append(" LIMIT ").Append(limitParameter ?? "-1");
        if (offsetParameter is not null)
        {
            sql.Append(" OFFSET ").Append(offsetParameter);
        }
    }

    internal override string Contains(string text, string part) => $"(instr({text}, {part}) > 0)";

    internal override string StartsWith(string text, string part) => $"(substr({text}, 1, length({part})) = {part})";

    internal override string EndsWith(string text, string part) => $"(length({part}) = 0 OR substr({text}, -length({part})) = {part})";

    internal override string IndexOf(string text, string part) => $"(instr({text}, {part}) - 1)";

    internal override string Length(string text) => $"length({text})";

    internal override string Substring(string text, string start, string? length) =>
        length is null ? $"substr({text}, ({start}) + 1)" : $"substr({text}, ({start}) + 1, {length})";

    internal override string Concat(string left, string right) => $"({left} || {right})";

    internal override string Trim(string text) => $"trim({text})";

    internal override string DatePart(string part, string value)
    {
        var format = part switch
        {
            "year" => "%Y",
            "month" => "%m",
            "day" => "%d",
            "hour" => "%H",
            "minute" => "%M",
            _ => "%S",
        };
        return $"CAST(strftime('{format}', {value}) AS INTEGER)";
    }

    internal override string DateOf(string value) => $"date({value})";

    // floor/ceil need SQLite's optional math functions; integer casts work everywhere.
    internal override string Floor(string value) => $"(CAST({value} AS INTEGER) - (({value}) < CAST({value} AS INTEGER)))";

    internal override string Ceiling(string value) => $"(CAST({value} AS INTEGER) + (({value}) > CAST({value} AS INTEGER)))";

    internal override string JsonArrayOfRows(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson, string rowNumberAlias) =>
        $"(SELECT COALESCE(json_group_array(json_array({Columns(columnAliases, columnIsJson)}) ORDER BY s.{rowNumberAlias}), '[]') FROM ({innerSelect}) s)";

    internal override string JsonSingleRow(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson) =>
        $"(SELECT json_array({Columns(columnAliases, columnIsJson)}) FROM ({innerSelect}) s)";

    internal override object ToProviderValue(object? value, DataType type) => value switch
    {
        null => DBNull.Value,
        Guid g => g.ToString("D"),
        bool b => b ? 1L : 0L,

        // Bound as TEXT, a decimal would compare as text against REAL expressions.
        decimal d => (double)d,
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture).TrimEnd('.'),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),

        // Stored as text: one offset (UTC) keeps text order equal to time order.
        DateTimeOffset d => d.ToUniversalTime(),
        _ => value,
    };

    // Nested JSON loses its subtype when it passes through a subquery: json() restores it.
    private static string Columns(IReadOnlyList<string> aliases, IReadOnlyList<bool> isJson) =>
        string.Join(", ", aliases.Select((a, i) => isJson[i] ? $"json(s.{a})" : $"s.{a}"));
}

internal sealed class PostgreSqlDialect : SqlDialect
{
    internal override string OrderTerm(string expression, bool descending, bool nullable) =>
        !nullable ? base.OrderTerm(expression, descending, nullable)
        : descending ? expression + " DESC NULLS LAST" : expression + " ASC NULLS FIRST";

    public override string Name => "postgresql";

    internal override string TrueLiteral => "TRUE";

    internal override void AppendPaging(StringBuilder sql, string? limitParameter, string? offsetParameter)
    {
        if (limitParameter is not null)
        {
            sql.Append(" LIMIT ").Append(limitParameter);
        }

        if (offsetParameter is not null)
        {
            sql.Append(" OFFSET ").Append(offsetParameter);
        }
    }

    internal override string Contains(string text, string part) => $"(strpos({text}, {part}) > 0)";

    internal override string StartsWith(string text, string part) => $"(left({text}, length({part})) = {part})";

    internal override string EndsWith(string text, string part) => $"(right({text}, length({part})) = {part})";

    internal override string IndexOf(string text, string part) => $"(strpos({text}, {part}) - 1)";

    internal override string Length(string text) => $"length({text})";

    internal override string Substring(string text, string start, string? length) =>
        length is null ? $"substr({text}, ({start}) + 1)" : $"substr({text}, ({start}) + 1, {length})";

    internal override string Concat(string left, string right) => $"({left} || {right})";

    internal override string DatePart(string part, string value) => part == "second"
        ? $"CAST(FLOOR(EXTRACT(SECOND FROM {value})) AS INTEGER)"
        : $"CAST(EXTRACT({part.ToUpperInvariant()} FROM {value}) AS INTEGER)";

    internal override string DateOf(string value) => $"CAST({value} AS date)";

    internal override string JsonArrayOfRows(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson, string rowNumberAlias) =>
        $"(SELECT COALESCE(json_agg(json_build_array({string.Join(", ", columnAliases.Select(a => "s." + a))}) ORDER BY s.{rowNumberAlias}), '[]'::json) FROM ({innerSelect}) s)";

    internal override string JsonSingleRow(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson) =>
        $"(SELECT json_build_array({string.Join(", ", columnAliases.Select(a => "s." + a))}) FROM ({innerSelect}) s)";

    internal override object ToProviderValue(object? value, DataType type) => value switch
    {
        null => DBNull.Value,

        // Npgsql sends DateTimeOffset as timestamptz and insists on offset zero.
        DateTimeOffset d => d.ToUniversalTime(),
        DateTime d when type == DataType.DateTimeOffset => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Unspecified),
        _ => value,
    };
}

internal sealed class SqlServerDialect : SqlDialect
{
    public override string Name => "sqlserver";

    internal override string TrueLiteral => "1";

    internal override string Quote(string identifier) => "[" + identifier.Replace("]", "]]", StringComparison.Ordinal) + "]";

    internal override void AppendPaging(StringBuilder sql, string? limitParameter, string? offsetParameter)
    {
        if (limitParameter is null && offsetParameter is null)
        {
            return;
        }

        // OFFSET/FETCH needs ORDER BY, which the engine always emits (key tiebreaker).
        sql.Append(" OFFSET ").Append(offsetParameter ?? "0").Append(" ROWS");
        if (limitParameter is not null)
        {
            sql.Append(" FETCH NEXT ").Append(limitParameter).Append(" ROWS ONLY");
        }
    }

    internal override string Contains(string text, string part) => $"(CHARINDEX({part}, {text}) > 0)";

    internal override string StartsWith(string text, string part) => $"(LEFT({text}, LEN({part})) = {part})";

    internal override string EndsWith(string text, string part) => $"(RIGHT({text}, LEN({part})) = {part})";

    internal override string IndexOf(string text, string part) => $"(CHARINDEX({part}, {text}) - 1)";

    internal override string Length(string text) => $"LEN({text})";

    internal override string Substring(string text, string start, string? length) =>
        $"SUBSTRING({text}, ({start}) + 1, {length ?? $"LEN({text})"})";

    internal override string Concat(string left, string right) => $"({left} + {right})";

    internal override string DatePart(string part, string value) => $"DATEPART({part}, {value})";

    internal override string DateOf(string value) => $"CAST({value} AS date)";

    internal override string Round(string value) => $"ROUND({value}, 0)";

    internal override bool JsonRowsAreObjects => true;

    internal override string JsonArrayOfRows(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson, string rowNumberAlias) =>
        $"(SELECT {Columns(columnAliases, columnIsJson)} FROM ({innerSelect}) s ORDER BY s.{rowNumberAlias} FOR JSON PATH, INCLUDE_NULL_VALUES)";

    internal override string JsonSingleRow(string innerSelect, IReadOnlyList<string> columnAliases, IReadOnlyList<bool> columnIsJson) =>
        $"(SELECT {Columns(columnAliases, columnIsJson)} FROM ({innerSelect}) s FOR JSON PATH, INCLUDE_NULL_VALUES, WITHOUT_ARRAY_WRAPPER)";

    internal override string Returning(IReadOnlyList<string> quotedColumns, bool inserted) =>
        " OUTPUT " + string.Join(", ", quotedColumns.Select(c => "INSERTED." + c));

    internal override bool OutputBeforeValues => true;

    // Microsoft.Data.SqlClient 2.x predates DateOnly.
    internal override object ToProviderValue(object? value, DataType type) => value switch
    {
        null => DBNull.Value,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        _ => value,
    };

    // FOR JSON escapes nested JSON text unless JSON_QUERY marks it as JSON.
    private static string Columns(IReadOnlyList<string> aliases, IReadOnlyList<bool> isJson) =>
        string.Join(", ", aliases.Select((a, i) => isJson[i] ? $"JSON_QUERY(s.{a}) AS {a}" : $"s.{a} AS {a}"));
}
