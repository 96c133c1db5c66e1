using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Causeway.Data;

/// <summary>The kinds of change a <see cref="WriteCommand"/> makes.</summary>
public enum WriteKind
{
    /// <summary>Create a row; 409 if the key exists.</summary>
    Insert,

    /// <summary>Change some columns of an existing row; 404 if absent, 412 on version mismatch.</summary>
    Update,

    /// <summary>Update the row if the key exists, else create it.</summary>
    Upsert,

    /// <summary>Remove a row; 404 if absent, 412 on version mismatch.</summary>
    Delete,
}

/// <summary>One translated write: a single statement (parameters for every value) plus what its result means.</summary>
public sealed class WriteCommand
{
    internal WriteCommand(WriteKind kind, TableSchema table, string sql, IReadOnlyList<QueryParameter> parameters, string? existsSql, IReadOnlyList<QueryParameter> keyParameters, IReadOnlyList<ColumnSchema> returned)
    {
        Kind = kind;
        Table = table;
        Sql = sql;
        Parameters = parameters;
        ExistsSql = existsSql;
        KeyParameters = keyParameters;
        Returned = returned;
    }

    /// <summary>What the command does.</summary>
    public WriteKind Kind { get; }

    /// <summary>The statement text.</summary>
    public string Sql { get; }

    /// <summary>Its parameters.</summary>
    public IReadOnlyList<QueryParameter> Parameters { get; }

    internal TableSchema Table { get; }

    /// <summary>Asked only after an update/delete touched no row, to tell 404 from 412.</summary>
    internal string? ExistsSql { get; }

    internal IReadOnlyList<QueryParameter> KeyParameters { get; }

    /// <summary>Key columns then the version column, as returned by RETURNING/OUTPUT.</summary>
    internal IReadOnlyList<ColumnSchema> Returned { get; }

    /// <summary>The rows the body binds to (<c>nav@odata.bind</c>); asked only after a constraint violation, to name a missing one.</summary>
    internal IReadOnlyList<BoundReference> Bound { get; init; } = [];
}

/// <summary>One <c>nav@odata.bind</c> of a write: the statement that finds the referenced row and how to name it.</summary>
internal sealed record BoundReference(string Navigation, string Target, string ExistsSql, QueryParameter Key);

/// <summary>Outcome of a write.</summary>
/// <param name="Key">Key values of the row written, by column name (canonical CLR values).</param>
/// <param name="Version">The row's version after the write, when the table has a version column.</param>
/// <param name="EntityId">Key in OData URL form, e.g. <c>5</c> or <c>Id1=5,Id2='x'</c>: append to <c>{entitySet}(...)</c>.</param>
public sealed record WriteResult(IReadOnlyDictionary<string, object?> Key, long? Version, string EntityId)
{
    /// <summary>The weak ETag <c>W/"n"</c>, or null.</summary>
    public string? ETag => Version is { } v ? ResultWriter.ETag(v) : null;
}

/// <summary>Builds INSERT/UPDATE/UPSERT/DELETE statements from JSON bodies.</summary>
internal sealed class WriteBuilder(EdmMapping map, SqlDialect dialect)
{
    private readonly List<QueryParameter> _parameters = [];
    private readonly List<BoundReference> _bound = [];

    public WriteCommand Build(WriteKind kind, string entitySet, string? key, JsonElement? body, long? expectedVersion)
    {
        if (!map.TryGetEntitySet(entitySet, out var table, out _, out _))
        {
            throw new DataRequestException(404, DataErrorCodes.NotFound, $"Resource not found for the segment '{entitySet}'.");
        }

        var keyValues = key is null ? [] : QueryTranslator.ParseKey(map, entitySet, table, key)
            .Select(k => (k.Column, Value: Values.ToCanonical(k.Value, k.Column.Type))).ToList();
        if (kind != WriteKind.Insert && keyValues.Count == 0)
        {
            throw DataRequestException.BadRequest($"A key is required to {kind.ToString().ToLowerInvariant()} a row of '{entitySet}'.");
        }

        var values = body is { } b ? ReadBody(table, b) : [];
        foreach (var (column, value) in keyValues)
        {
            values[column.Name] = (column, value);
        }

        var returned = table.Key.Select(k => table.FindColumn(k)!).ToList();
        if (table.VersionColumn is not null)
        {
            returned.Add(table.FindColumn(table.VersionColumn)!);
        }

        var name = dialect.QualifiedTable(table);
        var returning = returned.Select(c => dialect.Quote(c.Name)).ToList();
        var version = table.VersionColumn is null ? null : dialect.Quote(table.VersionColumn);
        var sql = new StringBuilder();
        var keyWhere = new List<string>();
        var keyParameters = new List<QueryParameter>();
        foreach (var (column, value) in keyValues)
        {
            var p = Parameter(value, column.Type);
            keyWhere.Add($"{dialect.Quote(column.Name)} = {p}");
            keyParameters.Add(_parameters[^1]);
        }

        string? existsSql = $"SELECT 1 FROM {name} WHERE {string.Join(" AND ", keyWhere)}";
        switch (kind)
        {
            case WriteKind.Insert:
            case WriteKind.Upsert:
                {
                    foreach (var c in table.Columns)
                    {
                        var required = !c.Nullable && !c.HasDefault && !c.ReadOnly && c.Name != table.VersionColumn;
                        if (required && !values.ContainsKey(c.Name))
                        {
                            throw DataRequestException.BadRequest($"The property '{c.Name}' is required to create a row of '{entitySet}'.");
                        }
                    }

                    var columns = values.Values.Select(v => v.Column).ToList();
                    var parameters = values.Values.Select(v => Parameter(v.Value, v.Column.Type)).ToList();
                    var quoted = columns.Select(c => dialect.Quote(c.Name)).ToList();
                    if (version is not null)
                    {
                        quoted.Add(version);
                        parameters.Add(Parameter(1L, DataType.Int64));
                    }

                    var updates = columns.Where(c => !table.Key.Contains(c.Name, StringComparer.Ordinal)).Select(c => dialect.Quote(c.Name)).ToList();
                    if (dialect is SqlServerDialect && kind == WriteKind.Upsert)
                    {
                        var source = string.Join(", ", quoted.Select((q, i) => $"{parameters[i]} AS {q}"));
                        var on = string.Join(" AND ", table.Key.Select(k => $"target.{dialect.Quote(k)} = source.{dialect.Quote(k)}"));
                        var set = updates.Select(u => $"{u} = source.{u}").ToList();
                        if (version is not null)
                        {
                            set.Add($"{version} = target.{version} + 1");
                        }

                        sql.Append($"MERGE INTO {name} WITH (HOLDLOCK) AS target USING (SELECT {source}) AS source ON {on}");
                        if (set.Count > 0)
                        {
                            sql.Append($" WHEN MATCHED THEN UPDATE SET {string.Join(", ", set)}");
                        }

                        sql.Append($" WHEN NOT MATCHED THEN INSERT ({string.Join(", ", quoted)}) VALUES ({string.Join(", ", quoted.Select(q => "source." + q))})");
                        sql.Append(dialect.Returning(returning, true)).Append(';');
                        break;
                    }

                    sql.Append($"INSERT INTO {name} ({string.Join(", ", quoted)})");
                    if (dialect.OutputBeforeValues)
                    {
                        sql.Append(dialect.Returning(returning, true));
                    }

                    sql.Append($" VALUES ({string.Join(", ", parameters)})");
                    if (kind == WriteKind.Upsert)
                    {
                        var set = updates.Select(u => $"{u} = excluded.{u}").ToList();
                        if (version is not null)
                        {
                            set.Add($"{version} = {name}.{version} + 1");
                        }

                        var conflict = string.Join(", ", table.Key.Select(dialect.Quote));
                        sql.Append(set.Count > 0 ? $" ON CONFLICT ({conflict}) DO UPDATE SET {string.Join(", ", set)}" : $" ON CONFLICT ({conflict}) DO NOTHING");
                    }

                    if (!dialect.OutputBeforeValues)
                    {
                        sql.Append(dialect.Returning(returning, true));
                    }

                    if (kind == WriteKind.Insert)
                    {
                        existsSql = null;
                    }

                    break;
                }

            case WriteKind.Update:
                {
                    var set = values.Values.Where(v => !table.Key.Contains(v.Column.Name, StringComparer.Ordinal))
                        .Select(v => $"{dialect.Quote(v.Column.Name)} = {Parameter(v.Value, v.Column.Type)}").ToList();
                    if (version is not null)
                    {
                        set.Add($"{version} = {version} + 1");
                    }

                    if (set.Count == 0)
                    {
                        // Nothing to change: still a valid request that must find the row.
                        set.Add($"{dialect.Quote(table.Key[0])} = {dialect.Quote(table.Key[0])}");
                    }

                    var where = new List<string>(keyWhere);
                    if (expectedVersion is { } ev)
                    {
                        where.Add(VersionCondition(table, ev));
                    }

                    sql.Append($"UPDATE {name} SET {string.Join(", ", set)}");
                    if (dialect.OutputBeforeValues)
                    {
                        sql.Append(dialect.Returning(returning, true));
                    }

                    sql.Append($" WHERE {string.Join(" AND ", where)}");
                    if (!dialect.OutputBeforeValues)
                    {
                        sql.Append(dialect.Returning(returning, true));
                    }

                    break;
                }

            case WriteKind.Delete:
                {
                    var where = new List<string>(keyWhere);
                    if (expectedVersion is { } ev)
                    {
                        where.Add(VersionCondition(table, ev));
                    }

                    sql.Append($"DELETE FROM {name} WHERE {string.Join(" AND ", where)}");
                    returned = [];
                    break;
                }
        }

        return new WriteCommand(kind, table, sql.ToString(), _parameters, existsSql, keyParameters, returned) { Bound = _bound };
    }

    private string VersionCondition(TableSchema table, long expected)
    {
        if (table.VersionColumn is null)
        {
            throw DataRequestException.BadRequest($"'{table.EntitySetName}' has no version: If-Match cannot be used.");
        }

        return $"{dialect.Quote(table.VersionColumn)} = {Parameter(expected, DataType.Int64)}";
    }

    private string Parameter(object? canonical, DataType type)
    {
        var name = dialect.ParameterName(_parameters.Count);
        _parameters.Add(new QueryParameter(name, dialect.ToProviderValue(canonical, type)));
        return name;
    }

    private Dictionary<string, (ColumnSchema Column, object? Value)> ReadBody(TableSchema table, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw DataRequestException.BadRequest("The request body must be a JSON object.");
        }

        var values = new Dictionary<string, (ColumnSchema, object?)>(StringComparer.Ordinal);
        foreach (var property in body.EnumerateObject())
        {
            var name = property.Name;
            if (name.EndsWith("@odata.bind", StringComparison.Ordinal))
            {
                Bind(table, name[..^"@odata.bind".Length], property.Value, values);
                continue;
            }

            if (name.Contains('@', StringComparison.Ordinal))
            {
                continue; // instance annotations carry no data
            }

            var column = table.FindColumn(name) ?? throw DataRequestException.BadRequest($"Could not find a property named '{name}' on type '{table.Name}'.");
            if (column.ReadOnly || column.Name == table.VersionColumn)
            {
                throw DataRequestException.BadRequest($"The property '{name}' is read-only.");
            }

            values[name] = (column, Convert(column, property.Value));
        }

        return values;
    }

    private void Bind(TableSchema table, string navigation, JsonElement value, Dictionary<string, (ColumnSchema, object?)> values)
    {
        var relationship = map.Schema.Relationships.FirstOrDefault(r => r.ReferencingTable == table.Name && r.NavigationName == navigation)
            ?? throw DataRequestException.BadRequest($"Could not find a single-valued navigation property named '{navigation}' on type '{table.Name}'.");
        var target = map.Schema.Tables.First(t => t.Name == relationship.ReferencedTable);
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : throw DataRequestException.BadRequest($"'{navigation}@odata.bind' must be a string like '{target.EntitySetName}(key)'.");
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var set = open > 0 ? text[..open].TrimStart('/') : string.Empty;
        set = set[(set.LastIndexOf('/') + 1)..];
        if (set != target.EntitySetName || !text.EndsWith(')'))
        {
            throw DataRequestException.BadRequest($"'{navigation}@odata.bind' must reference '{target.EntitySetName}(key)'.");
        }

        var key = QueryTranslator.ParseKey(map, target.EntitySetName, target, text[(open + 1)..^1]);
        var referenced = key.FirstOrDefault(k => k.Column.Name == relationship.ReferencedColumn);
        var column = table.FindColumn(relationship.ReferencingColumn)!;
        var canonical = Values.ToCanonical(referenced.Value, column.Type);
        values[column.Name] = (column, canonical);
        var targetColumn = target.FindColumn(relationship.ReferencedColumn)!;
        var parameter = new QueryParameter(dialect.ParameterName(0), dialect.ToProviderValue(Values.ToCanonical(referenced.Value, targetColumn.Type), targetColumn.Type));
        _bound.Add(new BoundReference(navigation, text.TrimStart('/'), $"SELECT 1 FROM {dialect.QualifiedTable(target)} WHERE {dialect.Quote(targetColumn.Name)} = {parameter.Name}", parameter));
    }

    private static object? Convert(ColumnSchema column, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return column.Nullable ? null : throw DataRequestException.BadRequest($"The property '{column.Name}' cannot be null.");
        }

        object? result;
        try
        {
            result = Values.FromJson(value, column.Type);
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
        {
            throw DataRequestException.BadRequest($"The value of property '{column.Name}' is not a valid {column.Type}.", ex);
        }

        if (column.MaxLength is { } max && result is string s && s.Length > max)
        {
            throw DataRequestException.BadRequest($"The value of property '{column.Name}' is longer than {max.ToString(CultureInfo.InvariantCulture)} characters.");
        }

        return result;
    }
}
