namespace Causeway.Data;

/// <summary>One bound parameter of a statement: its name in the SQL text and the provider-ready value.</summary>
public sealed record QueryParameter(string Name, object Value);

/// <summary>Limits a caller applies to one request; the defaults follow Dataverse.</summary>
public sealed record QueryLimits
{
    /// <summary>Rows per page (Prefer: odata.maxpagesize); at most <see cref="MaxPageSize"/>.</summary>
    public int PageSize { get; init; } = 5000;

    /// <summary>Upper bound on <see cref="PageSize"/>.</summary>
    public int MaxPageSize { get; init; } = 5000;

    /// <summary>Dataverse refuses $skip; the engine supports it when this is true.</summary>
    public bool AllowSkip { get; init; } = true;

    /// <summary>Maximum nesting of $expand.</summary>
    public int MaxExpansionDepth { get; init; } = 3;

    /// <summary>Maximum number of expanded navigation properties in one request.</summary>
    public int MaxExpansionCount { get; init; } = 15;

    /// <summary>Maximum nesting of a $filter expression (parentheses and operators); keeps hostile input off the stack.</summary>
    public int MaxFilterDepth { get; init; } = 40;

    /// <summary>Maximum length of any one query option value.</summary>
    public int MaxQueryOptionLength { get; init; } = 8192;

    /// <summary>Maximum number of values in an <c>in</c> list.</summary>
    public int MaxInListCount { get; init; } = 1000;
}

/// <summary>
/// One translated request: a single SQL statement with its parameters, plus the shape the result writer needs.
/// Immutable and safe to reuse; execute it with <see cref="DataEngine.ExecuteQueryAsync"/>.
/// </summary>
public sealed class QueryPlan
{
    internal QueryPlan(string sql, IReadOnlyList<QueryParameter> parameters, PlanShape shape)
    {
        Sql = sql;
        Parameters = parameters;
        Shape = shape;
    }

    /// <summary>The statement text; identifiers are quoted by the dialect, every value is a parameter.</summary>
    public string Sql { get; }

    /// <summary>Parameters referenced by <see cref="Sql"/>.</summary>
    public IReadOnlyList<QueryParameter> Parameters { get; }

    /// <summary>True when the request addressed one entity by key (the result is an object, 404 if absent).</summary>
    public bool IsSingleEntity => Shape.IsSingleEntity;

    internal PlanShape Shape { get; }

    /// <summary>The same statement for another key of the same entity set (the key's parameters replaced).</summary>
    internal QueryPlan WithKey(List<(ColumnSchema Column, object Value)> key, SqlDialect dialect)
    {
        var parameters = new QueryParameter[Parameters.Count];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = Parameters[i];
        }

        foreach (var slot in Shape.KeySlots)
        {
            foreach (var (column, value) in key)
            {
                if (column.Name == slot.Column.Name)
                {
                    parameters[slot.Parameter] = new QueryParameter(parameters[slot.Parameter].Name, dialect.ToProviderValue(Values.ToCanonical(value, column.Type), column.Type));
                }
            }
        }

        return new QueryPlan(Sql, parameters, Shape);
    }
}

/// <summary>Which parameter carries which key column of a by-key read.</summary>
internal sealed record KeySlot(int Parameter, ColumnSchema Column);

/// <summary>Which columns of the reader mean what.</summary>
internal sealed class EntityShape(TableSchema table)
{
    public TableSchema Table { get; } = table;

    public List<FieldSlot> Fields { get; } = [];

    public List<ExpandSlot> Expands { get; } = [];

    public int? VersionOrdinal { get; set; }

    /// <summary>Total columns in a row of this entity (top-level reader or nested JSON row).</summary>
    public int ColumnCount { get; set; }
}

internal sealed record FieldSlot(int Ordinal, ColumnSchema Column, bool Visible);

internal sealed record ExpandSlot(int Ordinal, string Name, bool IsCollection, EntityShape Shape);

internal sealed record OrderSlot(int Ordinal, DataType Type);

internal sealed class PlanShape(EntityShape entity)
{
    public EntityShape Entity { get; } = entity;

    public required string EntitySetName { get; init; }

    public required string ContextFragment { get; init; }

    public bool IsSingleEntity { get; init; }

    /// <summary>For a by-key read: the parameters holding the key, so one plan serves every key.</summary>
    public IReadOnlyList<KeySlot> KeySlots { get; init; } = [];

    public int? CountOrdinal { get; init; }

    /// <summary>Rows to write; the statement asks for one more to know whether a next page exists.</summary>
    public int PageSize { get; init; }

    /// <summary>Whether a row beyond <see cref="PageSize"/> leads to a nextLink (false when $top ends the result).</summary>
    public bool MayHaveNextPage { get; init; }

    /// <summary>Order values then key values, in the order the skip token stores them.</summary>
    public IReadOnlyList<OrderSlot> TokenSlots { get; init; } = [];

    public string TokenFingerprint { get; init; } = string.Empty;

    /// <summary>Query options for the next page, without $skiptoken.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> NextLinkOptions { get; init; } = [];
}
