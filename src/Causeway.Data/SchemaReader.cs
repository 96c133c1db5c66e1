using System.Data.Common;
using System.Globalization;

namespace Causeway.Data;

/// <summary>
/// Reads the tables, keys and single-column foreign keys of an existing database into a <see cref="DataSchema"/>
/// (the gateway uses it on customer databases).
/// </summary>
/// <remarks>
/// Naming rules, so that URLs are predictable:
/// <list type="bullet">
/// <item>Entity set name = table name, entity type name = table name, property name = column name (case kept).</item>
/// <item>Tables without a primary key, and columns of types with no EDM mapping (see <see cref="MapType"/>), are left out.</item>
/// <item>Single-valued navigation (on the referencing table): the foreign key column without a trailing <c>Id</c>/<c>_id</c>
/// (<c>ArtistId</c> → <c>Artist</c>, <c>artist_id</c> → <c>artist</c>); if nothing remains or the name is taken by a
/// column or another navigation property: <c>{column}_{referenced table}</c> (<c>ReportsTo</c> → <c>ReportsTo_Employee</c>).</item>
/// <item>Collection-valued navigation (on the referenced table): the referencing table's name (<c>Artist.Album</c>); if
/// that table references it more than once, or the name is taken: <c>{referencing table}_{single-valued name}</c>.</item>
/// <item>Any name still taken gets a numeric suffix (2, 3, ...). Foreign keys of several columns are ignored.</item>
/// </list>
/// </remarks>
public static class SchemaReader
{
    /// <summary>Reads the schema through an open connection of the dialect's database.</summary>
    /// <exception cref="DataRequestException">500 with a generic message when the catalog cannot be read.</exception>
    public static async Task<DataSchema> ReadAsync(DbConnection connection, SqlDialect dialect, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(dialect);
        try
        {
            return dialect switch
            {
                SqliteDialect => await ReadSqliteAsync(connection, cancellationToken).ConfigureAwait(false),
                PostgreSqlDialect => await ReadCatalogAsync(connection, PostgreSqlQueries, cancellationToken).ConfigureAwait(false),
                _ => await ReadCatalogAsync(connection, SqlServerQueries, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (DbException ex)
        {
            throw new DataRequestException(500, DataErrorCodes.DatabaseError, "The database schema could not be read.", ex);
        }
    }

    /// <summary>The three catalog queries of a dialect: columns, primary keys, foreign keys (same row shapes for all).</summary>
    internal sealed record CatalogQueries(string Columns, string Keys, string ForeignKeys);

    internal static readonly CatalogQueries PostgreSqlQueries = new(
        Columns: """
            SELECT NULL::text, c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable = 'YES', c.character_maximum_length,
                   (c.column_default IS NOT NULL OR c.is_identity = 'YES'), (c.is_generated <> 'NEVER' OR c.identity_generation = 'ALWAYS')
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
            WHERE c.table_schema = current_schema()
            ORDER BY c.table_name, c.ordinal_position
            """,
        Keys: """
            SELECT NULL::text, cl.relname::text, a.attname::text, k.ord::int
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
            CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
            WHERE con.contype = 'p' AND n.nspname = current_schema()
            ORDER BY cl.relname, k.ord
            """,
        ForeignKeys: """
            SELECT con.conname::text, NULL::text, cl.relname::text, a.attname::text, NULL::text, rcl.relname::text, ra.attname::text
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
            JOIN pg_catalog.pg_class rcl ON rcl.oid = con.confrelid
            JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
            JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
            WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 AND n.nspname = current_schema()
            ORDER BY cl.relname, con.conname
            """);

    internal static readonly CatalogQueries SqlServerQueries = new(
        Columns: """
            SELECT s.name, t.name, c.name, ty.name, c.is_nullable,
                   CASE WHEN c.max_length = -1 THEN NULL WHEN ty.name IN ('nchar', 'nvarchar') THEN c.max_length / 2 WHEN ty.name IN ('char', 'varchar', 'binary', 'varbinary') THEN c.max_length ELSE NULL END,
                   CAST(CASE WHEN c.default_object_id <> 0 OR c.is_identity = 1 THEN 1 ELSE 0 END AS bit),
                   CAST(CASE WHEN c.is_computed = 1 OR c.is_identity = 1 OR ty.name IN ('timestamp', 'rowversion') THEN 1 ELSE 0 END AS bit)
            FROM sys.tables t
            JOIN sys.schemas s ON s.schema_id = t.schema_id
            JOIN sys.columns c ON c.object_id = t.object_id
            JOIN sys.types ty ON ty.user_type_id = c.user_type_id
            WHERE t.is_ms_shipped = 0
            ORDER BY s.name, t.name, c.column_id
            """,
        Keys: """
            SELECT s.name, t.name, c.name, CAST(ic.key_ordinal AS int)
            FROM sys.indexes i
            JOIN sys.tables t ON t.object_id = i.object_id
            JOIN sys.schemas s ON s.schema_id = t.schema_id
            JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
            JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
            WHERE i.is_primary_key = 1
            ORDER BY s.name, t.name, ic.key_ordinal
            """,
        ForeignKeys: """
            SELECT fk.name, ps.name, pt.name, pc.name, rs.name, rt.name, rc.name
            FROM sys.foreign_keys fk
            JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
            JOIN sys.tables pt ON pt.object_id = fk.parent_object_id
            JOIN sys.schemas ps ON ps.schema_id = pt.schema_id
            JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
            JOIN sys.tables rt ON rt.object_id = fk.referenced_object_id
            JOIN sys.schemas rs ON rs.schema_id = rt.schema_id
            JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
            WHERE (SELECT COUNT(*) FROM sys.foreign_key_columns x WHERE x.constraint_object_id = fk.object_id) = 1
            ORDER BY pt.name, fk.name
            """);

    /// <summary>
    /// Maps a database type name to a <see cref="DataType"/>, or null when it has no mapping. SQLite's declared types
    /// follow its affinity rules (INTEGER → Int64, INT/SMALLINT → Int32, anything with CHAR/CLOB/TEXT → String, ...).
    /// </summary>
    public static DataType? MapType(string typeName)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        var t = typeName.Trim().ToUpperInvariant();
        var paren = t.IndexOf('(', StringComparison.Ordinal);
        var bare = paren >= 0 ? t[..paren].Trim() : t;
        return bare switch
        {
            "INTEGER" or "BIGINT" or "INT8" or "BIGSERIAL" => DataType.Int64,
            "INT" or "INT4" or "INT2" or "SMALLINT" or "TINYINT" or "MEDIUMINT" or "SERIAL" or "SMALLSERIAL" => DataType.Int32,
            "BOOLEAN" or "BOOL" or "BIT" => DataType.Boolean,
            "NUMERIC" or "DECIMAL" or "MONEY" or "SMALLMONEY" => DataType.Decimal,
            "REAL" or "FLOAT" or "DOUBLE" or "DOUBLE PRECISION" or "FLOAT4" or "FLOAT8" => DataType.Double,
            "UUID" or "UNIQUEIDENTIFIER" or "GUID" => DataType.Guid,
            "DATE" => DataType.Date,
            "DATETIME" or "DATETIME2" or "SMALLDATETIME" or "TIMESTAMP" or "TIMESTAMP WITHOUT TIME ZONE" => DataType.DateTime,
            "DATETIMEOFFSET" or "TIMESTAMPTZ" or "TIMESTAMP WITH TIME ZONE" => DataType.DateTimeOffset,
            "BLOB" or "BYTEA" or "VARBINARY" or "BINARY" or "IMAGE" => DataType.Binary,
            "TIMESTAMP(ROWVERSION)" or "ROWVERSION" => null,
            _ when bare.Contains("CHAR", StringComparison.Ordinal) || bare.Contains("TEXT", StringComparison.Ordinal) || bare.Contains("CLOB", StringComparison.Ordinal) => DataType.String,
            "CHARACTER VARYING" or "CHARACTER" or "XML" or "CITEXT" => DataType.String,
            "" => DataType.String, // SQLite: no declared type (BLOB affinity), most often text in practice
            _ => null,
        };
    }

    private static async Task<DataSchema> ReadSqliteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using (var command = Command(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var columns = new List<ColumnRow>();
        var keys = new List<KeyRow>();
        var foreignKeys = new List<ForeignKeyRow>();
        foreach (var table in tables)
        {
            var tableKeys = new List<(string Column, int Ordinal, string Type)>();
            await using (var command = Command(connection, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(@t) ORDER BY cid", table))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var name = reader.GetString(0);
                    var type = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
                    var pk = reader.GetInt32(4);
                    columns.Add(new ColumnRow(null, table, name, type, reader.GetInt32(2) == 0 && pk == 0, Length(type), !reader.IsDBNull(3), false));
                    if (pk > 0)
                    {
                        tableKeys.Add((name, pk, type));
                    }
                }
            }

            // INTEGER PRIMARY KEY is the rowid: SQLite assigns it when an insert leaves it out.
            if (tableKeys.Count == 1 && string.Equals(tableKeys[0].Type, "INTEGER", StringComparison.OrdinalIgnoreCase))
            {
                var i = columns.FindIndex(c => c.Table == table && c.Column == tableKeys[0].Column);
                columns[i] = columns[i] with { HasDefault = true };
            }

            keys.AddRange(tableKeys.Select(k => new KeyRow(null, table, k.Column, k.Ordinal)));
            var fkParts = new List<(int Id, string Table, string From, string? To)>();
            await using (var command = Command(connection, "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(@t) ORDER BY id, seq", table))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    fkParts.Add((reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
                }
            }

            foreach (var group in fkParts.GroupBy(p => p.Id).Where(g => g.Count() == 1))
            {
                var p = group.First();
                foreignKeys.Add(new ForeignKeyRow($"FK_{table}_{p.From}", null, table, p.From, null, p.Table, p.To));
            }
        }

        return Assemble(columns, keys, foreignKeys);
    }

    private static async Task<DataSchema> ReadCatalogAsync(DbConnection connection, CatalogQueries queries, CancellationToken cancellationToken)
    {
        var columns = new List<ColumnRow>();
        var keys = new List<KeyRow>();
        var foreignKeys = new List<ForeignKeyRow>();
        await using (var command = Command(connection, queries.Columns))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add(new ColumnRow(
                    Text(reader, 0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    Flag(reader, 4), reader.IsDBNull(5) ? null : Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture), Flag(reader, 6), Flag(reader, 7)));
            }
        }

        await using (var command = Command(connection, queries.Keys))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(new KeyRow(Text(reader, 0), reader.GetString(1), reader.GetString(2), Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture)));
            }
        }

        await using (var command = Command(connection, queries.ForeignKeys))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                foreignKeys.Add(new ForeignKeyRow(reader.GetString(0), Text(reader, 1), reader.GetString(2), reader.GetString(3), Text(reader, 4), reader.GetString(5), reader.GetString(6)));
            }
        }

        return Assemble(columns, keys, foreignKeys);
    }

    /// <summary>Builds the schema from catalog rows, applying the naming rules in the class remarks.</summary>
    internal static DataSchema Assemble(IReadOnlyList<ColumnRow> columns, IReadOnlyList<KeyRow> keys, IReadOnlyList<ForeignKeyRow> foreignKeys)
    {
        var tables = new List<TableSchema>();
        var setNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in columns.GroupBy(c => (c.Schema, c.Table)))
        {
            var key = keys.Where(k => k.Schema == group.Key.Schema && k.Table == group.Key.Table).OrderBy(k => k.Ordinal).Select(k => k.Column).ToList();
            var mapped = group
                .Select(c => (Row: c, Type: MapType(c.Type)))
                .Where(c => c.Type is not null)
                .Select(c => new ColumnSchema(c.Row.Column, c.Type!.Value, c.Row.Nullable && !key.Contains(c.Row.Column), c.Row.MaxLength, c.Row.ReadOnly, c.Row.HasDefault))
                .ToList();
            if (key.Count == 0 || key.Any(k => mapped.All(c => c.Name != k)))
            {
                continue;
            }

            var set = setNames.Add(group.Key.Table) ? group.Key.Table : $"{group.Key.Schema}_{group.Key.Table}";
            setNames.Add(set);
            tables.Add(new TableSchema(group.Key.Table, set, mapped, key, Schema: group.Key.Schema));
        }

        var taken = tables.ToDictionary(t => t, t => new HashSet<string>(t.Columns.Select(c => c.Name), StringComparer.Ordinal));
        TableSchema? Find(string? schema, string name) => tables.FirstOrDefault(t => t.Name == name && (schema is null || t.Schema == schema));
        var relationships = new List<RelationshipSchema>();
        var usable = foreignKeys
            .Select(f => (Fk: f, From: Find(f.Schema, f.Table), To: Find(f.ReferencedSchema, f.ReferencedTable)))
            .Where(x => x.From is not null && x.To is not null && x.From.FindColumn(x.Fk.Column) is not null)
            .Select(x => (x.Fk, From: x.From!, To: x.To!, ToColumn: x.Fk.ReferencedColumn ?? (x.To!.Key.Count == 1 ? x.To.Key[0] : null)))
            .Where(x => x.ToColumn is not null && x.To.FindColumn(x.ToColumn) is not null)
            .ToList();
        foreach (var (fk, from, to, toColumn) in usable)
        {
            var single = StripId(fk.Column);
            if (single.Length == 0 || taken[from].Contains(single))
            {
                single = $"{fk.Column}_{to.Name}";
            }

            single = Unique(taken[from], single);
            var several = usable.Count(u => u.From == from && u.To == to) > 1;
            var collection = several || taken[to].Contains(from.Name) ? $"{from.Name}_{single}" : from.Name;
            collection = Unique(taken[to], collection);
            relationships.Add(new RelationshipSchema(fk.Name, from.Name, fk.Column, to.Name, toColumn!, single, collection));
        }

        var schema = new DataSchema(tables, relationships);
        schema.Validate();
        return schema;
    }

    private static string StripId(string column)
    {
        if (column.Length > 2 && column.EndsWith("id", StringComparison.OrdinalIgnoreCase))
        {
            return column[..^2].TrimEnd('_');
        }

        return string.Empty;
    }

    private static string Unique(HashSet<string> taken, string name)
    {
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++)
        {
            candidate = name + i.ToString(CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    private static int? Length(string type)
    {
        var open = type.IndexOf('(', StringComparison.Ordinal);
        var close = type.IndexOf(')', StringComparison.Ordinal);
        return open > 0 && close > open && !type.Contains(',', StringComparison.Ordinal)
            && int.TryParse(type.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && MapType(type) == DataType.String ? n : null;
    }

    private static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static bool Flag(DbDataReader reader, int ordinal) => !reader.IsDBNull(ordinal) && reader.GetValue(ordinal) switch
    {
        bool b => b,
        var v => Convert.ToInt64(v, CultureInfo.InvariantCulture) != 0,
    };

    private static DbCommand Command(DbConnection connection, string sql, string? tableParameter = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        if (tableParameter is not null)
        {
            var p = command.CreateParameter();
            p.ParameterName = "@t";
            p.Value = tableParameter;
            command.Parameters.Add(p);
        }

        return command;
    }

    internal sealed record ColumnRow(string? Schema, string Table, string Column, string Type, bool Nullable, int? MaxLength, bool HasDefault, bool ReadOnly);

    internal sealed record KeyRow(string? Schema, string Table, string Column, int Ordinal);

    internal sealed record ForeignKeyRow(string Name, string? Schema, string Table, string Column, string? ReferencedSchema, string ReferencedTable, string? ReferencedColumn);
}
