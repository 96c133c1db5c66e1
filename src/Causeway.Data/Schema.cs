namespace Causeway.Data;

/// <summary>Storage-neutral column types; each maps to one EDM primitive type and one CLR type used for parameters.</summary>
public enum DataType
{
    /// <summary>Edm.String / string.</summary>
    String,

    /// <summary>Edm.Int32 / int.</summary>
    Int32,

    /// <summary>Edm.Int64 / long.</summary>
    Int64,

    /// <summary>Edm.Decimal / decimal.</summary>
    Decimal,

    /// <summary>Edm.Double / double.</summary>
    Double,

    /// <summary>Edm.Boolean / bool (SQLite stores 0/1).</summary>
    Boolean,

    /// <summary>Edm.Guid / Guid (SQLite stores text).</summary>
    Guid,

    /// <summary>A timestamp stored without offset, read as UTC; exposed as Edm.DateTimeOffset.</summary>
    DateTime,

    /// <summary>Edm.DateTimeOffset / DateTimeOffset.</summary>
    DateTimeOffset,

    /// <summary>Edm.Date / DateOnly.</summary>
    Date,

    /// <summary>Edm.Binary / byte[].</summary>
    Binary,
}

/// <summary>One column of a table.</summary>
/// <param name="Name">Column name in the database; also the EDM property name.</param>
/// <param name="Type">Storage-neutral type.</param>
/// <param name="Nullable">Whether NULL is allowed.</param>
/// <param name="MaxLength">Maximum length of strings/binaries, when known.</param>
/// <param name="ReadOnly">Computed or identity columns: never written by insert/update.</param>
/// <param name="HasDefault">The database supplies a value when an insert omits the column.</param>
public sealed record ColumnSchema(string Name, DataType Type, bool Nullable = true, int? MaxLength = null, bool ReadOnly = false, bool HasDefault = false);

/// <summary>One table exposed as an entity set.</summary>
/// <param name="Name">Table name in the database; also the EDM entity type name.</param>
/// <param name="EntitySetName">Name of the entity set in URLs (Dataverse: the plural logical name).</param>
/// <param name="Columns">Columns in declaration order.</param>
/// <param name="Key">Primary key column names (at least one).</param>
/// <param name="VersionColumn">Integer column the engine increments on every update; exposed as <c>@odata.etag</c> W/"n". Optional.</param>
/// <param name="Schema">Database schema (e.g. <c>public</c>, <c>dbo</c>); null for the connection's default.</param>
public sealed record TableSchema(string Name, string EntitySetName, IReadOnlyList<ColumnSchema> Columns, IReadOnlyList<string> Key, string? VersionColumn = null, string? Schema = null)
{
    /// <summary>The column named <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public ColumnSchema? FindColumn(string name)
    {
        foreach (var c in Columns)
        {
            if (string.Equals(c.Name, name, StringComparison.Ordinal))
            {
                return c;
            }
        }

        return null;
    }
}

/// <summary>A many-to-one relationship: <see cref="ReferencingTable"/>.<see cref="ReferencingColumn"/> points at <see cref="ReferencedTable"/>.<see cref="ReferencedColumn"/>.</summary>
/// <param name="Name">Constraint name (informational).</param>
/// <param name="ReferencingTable">Table holding the foreign key (the "many" side).</param>
/// <param name="ReferencingColumn">Foreign key column.</param>
/// <param name="ReferencedTable">Table referenced (the "one" side).</param>
/// <param name="ReferencedColumn">Referenced column, usually the key.</param>
/// <param name="NavigationName">Single-valued navigation property on the referencing table.</param>
/// <param name="CollectionNavigationName">Collection-valued navigation property on the referenced table.</param>
public sealed record RelationshipSchema(string Name, string ReferencingTable, string ReferencingColumn, string ReferencedTable, string ReferencedColumn, string NavigationName, string CollectionNavigationName);

/// <summary>
/// The tables and relationships one <see cref="DataEngine"/> exposes. Immutable; build it by hand (the server's
/// table definitions) or with <see cref="SchemaReader"/> (the gateway against an existing database).
/// </summary>
/// <param name="Tables">Tables; entity set names and table names must be unique.</param>
/// <param name="Relationships">Many-to-one relationships between those tables.</param>
/// <param name="Namespace">EDM namespace of the entity types.</param>
public sealed record DataSchema(IReadOnlyList<TableSchema> Tables, IReadOnlyList<RelationshipSchema> Relationships, string Namespace = "Causeway")
{
    /// <summary>
    /// Checks names, keys and relationships and throws <see cref="ArgumentException"/> naming the first problem.
    /// </summary>
    public void Validate()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in Tables)
        {
            if (!names.Add(t.Name))
            {
                throw new ArgumentException($"Table '{t.Name}' is defined twice.");
            }

            if (!sets.Add(t.EntitySetName))
            {
                throw new ArgumentException($"Entity set '{t.EntitySetName}' is defined twice.");
            }

            if (t.Key.Count == 0)
            {
                throw new ArgumentException($"Table '{t.Name}' has no key.");
            }

            var columns = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in t.Columns)
            {
                if (!columns.Add(c.Name))
                {
                    throw new ArgumentException($"Column '{c.Name}' is defined twice in table '{t.Name}'.");
                }
            }

            foreach (var k in t.Key)
            {
                if (t.FindColumn(k) is null)
                {
                    throw new ArgumentException($"Key column '{k}' is not a column of table '{t.Name}'.");
                }
            }

            if (t.VersionColumn is not null && t.FindColumn(t.VersionColumn) is not { Type: DataType.Int32 or DataType.Int64 })
            {
                throw new ArgumentException($"Version column '{t.VersionColumn}' of table '{t.Name}' must be an integer column.");
            }
        }

        foreach (var r in Relationships)
        {
            var from = Tables.FirstOrDefault(t => t.Name == r.ReferencingTable) ?? throw new ArgumentException($"Relationship '{r.Name}' names unknown table '{r.ReferencingTable}'.");
            var to = Tables.FirstOrDefault(t => t.Name == r.ReferencedTable) ?? throw new ArgumentException($"Relationship '{r.Name}' names unknown table '{r.ReferencedTable}'.");
            if (from.FindColumn(r.ReferencingColumn) is null || to.FindColumn(r.ReferencedColumn) is null)
            {
                throw new ArgumentException($"Relationship '{r.Name}' names an unknown column.");
            }
        }
    }
}
