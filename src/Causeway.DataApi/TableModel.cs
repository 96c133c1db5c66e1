using System.Globalization;
using System.Text.Json;
using Causeway.Data;

namespace Causeway.DataApi;

/// <summary>One value of a choice (option set) column.</summary>
public sealed record ChoiceOption(int Value, string? Label);

/// <summary>A column as requested and as stored (normalized: every field set except those that do not apply to its type).</summary>
/// <param name="LogicalName">Lower-case letters, digits and '_', starting with a letter; also the SQL column name (a lookup's is <c>_{name}_value</c>).</param>
/// <param name="DisplayName">Shown to people; defaults to the logical name.</param>
/// <param name="Type">text, memo, integer, bigint, decimal, float, money, boolean, datetime, date, guid, choice or lookup.</param>
/// <param name="MaxLength">text (default 100, at most 4000) and memo (default none).</param>
/// <param name="Required">NOT NULL.</param>
/// <param name="Default">Value the database supplies when a create omits the column (not for lookups).</param>
/// <param name="Target">A lookup's target table (logical name).</param>
/// <param name="Options">A choice's allowed values.</param>
public sealed record ColumnDefinition(
    string? LogicalName, string? DisplayName = null, string? Type = null, int? MaxLength = null, bool? Required = null,
    JsonElement? Default = null, string? Target = null, IReadOnlyList<ChoiceOption>? Options = null);

/// <summary>A table as requested (<c>POST /api/v1/environments/{id}/tables</c>) and as stored.</summary>
/// <param name="LogicalName">Lower-case letters, digits and '_', starting with a letter; also the SQL table name.</param>
/// <param name="DisplayName">Shown to people; defaults to the logical name.</param>
/// <param name="EntitySetName">Name in Data API URLs; defaults to the English plural of the logical name.</param>
/// <param name="Columns">The table's own columns; the key <c>{table}id</c>, <c>createdon</c>, <c>modifiedon</c> and <c>versionnumber</c> are added.</param>
public sealed record TableDefinition(string? LogicalName, string? DisplayName = null, string? EntitySetName = null, IReadOnlyList<ColumnDefinition>? Columns = null)
{
    /// <summary>The primary key column: <c>{logicalName}id</c>.</summary>
    public string PrimaryKey => LogicalName + "id";
}

/// <summary>Thrown for a table request that cannot be honoured; <see cref="Exception.Message"/> is safe to show and names the field.</summary>
public sealed class TableRequestException(string field, string message, int statusCode = 400) : Exception(message)
{
    /// <summary>The request field at fault.</summary>
    public string Field { get; } = field;

    /// <summary>400 (bad request) or 409 (conflicts with what exists).</summary>
    public int StatusCode { get; } = statusCode;
}

/// <summary>Validation of table definitions and their mapping onto the data engine's schema.</summary>
public static class TableRules
{
    /// <summary>The column types a table can have.</summary>
    public static readonly IReadOnlyList<string> ColumnTypes =
        ["text", "memo", "integer", "bigint", "decimal", "float", "money", "boolean", "datetime", "date", "guid", "choice", "lookup"];

    /// <summary>System columns every table has besides its key.</summary>
    public static readonly IReadOnlyList<string> SystemColumns = ["createdon", "modifiedon", "versionnumber"];

    /// <summary>Longest logical name (table or column): leaves room in PostgreSQL's 63-byte identifiers for derived names.</summary>
    public const int MaxNameLength = 40;

    /// <summary>Longest text column.</summary>
    public const int MaxTextLength = 4000;

    /// <summary>Default length of a text column (as in Dataverse).</summary>
    public const int DefaultTextLength = 100;

    /// <summary>Checks a logical name: 1-40 lower-case letters, digits or '_', starting with a letter. Null when valid.</summary>
    public static string? CheckName(string what, string? name) =>
        string.IsNullOrEmpty(name) ? $"{what} is required."
        : name.Length > MaxNameLength || !char.IsAsciiLetterLower(name[0]) || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
            ? $"{what} '{Shorten(name)}' must be 1-{MaxNameLength} lower-case letters, digits or '_' and start with a letter."
            : null;

    /// <summary>The English plural Dataverse would give: category -> categories, box -> boxes, product -> products.</summary>
    public static string Plural(string name) =>
        name.EndsWith('y') && name.Length > 1 && !"aeiou".Contains(name[^2], StringComparison.Ordinal) ? name[..^1] + "ies"
        : name.EndsWith('s') || name.EndsWith('x') || name.EndsWith('z') || name.EndsWith("ch", StringComparison.Ordinal) || name.EndsWith("sh", StringComparison.Ordinal) ? name + "es"
        : name + "s";

    /// <summary>The SQL column (and read-only value property) of a lookup: <c>_{name}_value</c>.</summary>
    public static string ValueColumn(string lookup) => $"_{lookup}_value";

    /// <summary>The collection-valued navigation property a lookup adds to its target: <c>{table}_{lookup}</c>.</summary>
    public static string CollectionNavigation(string table, string lookup) => $"{table}_{lookup}";

    /// <summary>
    /// Validates a new table against the existing ones and returns it normalized.
    /// </summary>
    /// <exception cref="TableRequestException">The first problem found, naming its field.</exception>
    public static TableDefinition NormalizeTable(TableDefinition request, IReadOnlyList<TableDefinition> existing)
    {
        if (CheckName("logicalName", request.LogicalName) is { } error)
        {
            throw new TableRequestException("logicalName", error);
        }

        var name = request.LogicalName!;
        if (name.StartsWith("causeway", StringComparison.Ordinal) || name.StartsWith("sqlite", StringComparison.Ordinal) || name.StartsWith("pg_", StringComparison.Ordinal))
        {
            throw new TableRequestException("logicalName", $"logicalName '{name}' is reserved (names starting with causeway, sqlite or pg_ are kept for the platform).");
        }

        if (existing.Any(t => t.LogicalName == name))
        {
            throw new TableRequestException("logicalName", $"A table named '{name}' already exists in this environment.", 409);
        }

        var entitySet = request.EntitySetName ?? Plural(name);
        if (CheckName("entitySetName", entitySet) is { } setError)
        {
            throw new TableRequestException("entitySetName", setError);
        }

        if (existing.FirstOrDefault(t => t.EntitySetName == entitySet) is { } clash)
        {
            throw new TableRequestException("entitySetName", $"The entity set name '{entitySet}' is used by table '{clash.LogicalName}'; give this table another entitySetName.", 409);
        }

        var table = new TableDefinition(name, string.IsNullOrWhiteSpace(request.DisplayName) ? name : request.DisplayName.Trim(), entitySet, []);
        var columns = new List<ColumnDefinition>();
        var i = 0;
        foreach (var column in request.Columns ?? [])
        {
            columns.Add(NormalizeColumn(table with { Columns = columns }, column, existing, $"columns[{i}]", newTable: true));
            i++;
        }

        return table with { Columns = columns };
    }

    /// <summary>Validates a column for <paramref name="table"/> (which holds the columns so far) and returns it normalized.</summary>
    /// <exception cref="TableRequestException">The first problem found.</exception>
    public static ColumnDefinition NormalizeColumn(TableDefinition table, ColumnDefinition column, IReadOnlyList<TableDefinition> others, string field, bool newTable)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(column);
        if (CheckName($"{field}.logicalName", column.LogicalName) is { } nameError)
        {
            throw new TableRequestException($"{field}.logicalName", nameError);
        }

        var name = column.LogicalName!;
        if (name == table.PrimaryKey || SystemColumns.Contains(name))
        {
            throw new TableRequestException($"{field}.logicalName", $"Column name '{name}' is reserved: every table has {table.PrimaryKey}, {string.Join(", ", SystemColumns)}.");
        }

        if (table.Columns!.Any(c => c.LogicalName == name))
        {
            throw new TableRequestException($"{field}.logicalName", $"Table '{table.LogicalName}' already has a column named '{name}'.", newTable ? 400 : 409);
        }

        var type = column.Type?.ToLowerInvariant();
        if (type is null || !ColumnTypes.Contains(type))
        {
            throw new TableRequestException($"{field}.type", $"Column '{name}': type must be one of {string.Join(", ", ColumnTypes)} (it is '{Shorten(column.Type ?? "")}').");
        }

        int? maxLength = null;
        if (type is "text" or "memo")
        {
            var limit = type == "text" ? MaxTextLength : 1_048_576;
            maxLength = column.MaxLength ?? (type == "text" ? DefaultTextLength : null);
            if (maxLength is < 1 || maxLength > limit)
            {
                throw new TableRequestException($"{field}.maxLength", $"Column '{name}': maxLength must be between 1 and {limit.ToString(CultureInfo.InvariantCulture)}.");
            }
        }
        else if (column.MaxLength is not null)
        {
            throw new TableRequestException($"{field}.maxLength", $"Column '{name}': maxLength applies to text and memo columns only.");
        }

        string? target = null;
        if (type == "lookup")
        {
            target = column.Target;
            if (string.IsNullOrEmpty(target) || (target != table.LogicalName && !others.Any(t => t.LogicalName == target)))
            {
                throw new TableRequestException($"{field}.target", $"Column '{name}': a lookup needs a target table of this environment ('{Shorten(target ?? "")}' does not exist).");
            }

            var navigation = CollectionNavigation(table.LogicalName!, name);
            var targetTable = target == table.LogicalName ? table : others.First(t => t.LogicalName == target);
            if (targetTable.Columns!.Any(c => c.LogicalName == navigation) || others.Append(table).Any(t => t.Columns!.Any(c => c.Type == "lookup" && c.Target == target && CollectionNavigation(t.LogicalName!, c.LogicalName!) == navigation)))
            {
                throw new TableRequestException($"{field}.logicalName", $"Column '{name}': the relationship name '{navigation}' is already used on table '{target}'; choose another column name.");
            }
        }
        else if (column.Target is not null)
        {
            throw new TableRequestException($"{field}.target", $"Column '{name}': target applies to lookup columns only.");
        }

        IReadOnlyList<ChoiceOption>? options = null;
        if (type == "choice")
        {
            options = column.Options;
            if (options is null || options.Count == 0)
            {
                throw new TableRequestException($"{field}.options", $"Column '{name}': a choice needs options, e.g. [{{\"value\":1,\"label\":\"Red\"}}].");
            }

            if (options.Select(o => o.Value).Distinct().Count() != options.Count)
            {
                throw new TableRequestException($"{field}.options", $"Column '{name}': option values must be distinct.");
            }
        }
        else if (column.Options is not null)
        {
            throw new TableRequestException($"{field}.options", $"Column '{name}': options apply to choice columns only.");
        }

        var required = column.Required ?? false;
        JsonElement? defaultValue = column.Default is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } d ? d.Clone() : null;
        if (defaultValue is { } value)
        {
            if (type == "lookup")
            {
                throw new TableRequestException($"{field}.default", $"Column '{name}': a lookup cannot have a default.");
            }

            var candidate = new ColumnDefinition(name, Type: type, MaxLength: maxLength, Options: options);
            _ = ParseValue(candidate, value, $"{field}.default");
        }

        if (!newTable && required && defaultValue is null)
        {
            throw new TableRequestException($"{field}.required", $"Column '{name}': a required column added to an existing table needs a default (existing rows need a value).");
        }

        return new ColumnDefinition(name, string.IsNullOrWhiteSpace(column.DisplayName) ? name : column.DisplayName.Trim(), type, maxLength, required, defaultValue, target, options);
    }

    /// <summary>The engine type of a column type.</summary>
    public static DataType DataTypeOf(string type) => type switch
    {
        "text" or "memo" => DataType.String,
        "integer" or "choice" => DataType.Int32,
        "bigint" => DataType.Int64,
        "decimal" or "money" => DataType.Decimal,
        "float" => DataType.Double,
        "boolean" => DataType.Boolean,
        "datetime" => DataType.DateTime,
        "date" => DataType.Date,
        _ => DataType.Guid,
    };

    /// <summary>
    /// The engine schema of a set of tables. Columns: key, own columns (a lookup as read-only <c>_x_value</c>),
    /// createdon, modifiedon, versionnumber (the version column).
    /// </summary>
    public static DataSchema ToDataSchema(IReadOnlyList<TableDefinition> tables)
    {
        var schemas = new List<TableSchema>();
        var relationships = new List<RelationshipSchema>();
        foreach (var t in tables)
        {
            var columns = new List<ColumnSchema> { new(t.PrimaryKey, DataType.Guid, Nullable: false) };
            foreach (var c in t.Columns!)
            {
                if (c.Type == "lookup")
                {
                    // Written only through "name@odata.bind", as in Dataverse.
                    columns.Add(new ColumnSchema(ValueColumn(c.LogicalName!), DataType.Guid, Nullable: !(c.Required ?? false), ReadOnly: true));
                    relationships.Add(new RelationshipSchema(CollectionNavigation(t.LogicalName!, c.LogicalName!), t.LogicalName!, ValueColumn(c.LogicalName!),
                        c.Target!, c.Target + "id", c.LogicalName!, CollectionNavigation(t.LogicalName!, c.LogicalName!)));
                }
                else
                {
                    columns.Add(new ColumnSchema(c.LogicalName!, DataTypeOf(c.Type!), Nullable: !(c.Required ?? false), MaxLength: c.MaxLength, HasDefault: c.Default is not null));
                }
            }

            columns.Add(new ColumnSchema("createdon", DataType.DateTime, Nullable: false, ReadOnly: true, HasDefault: true));
            columns.Add(new ColumnSchema("modifiedon", DataType.DateTime, Nullable: false, ReadOnly: true, HasDefault: true));
            columns.Add(new ColumnSchema("versionnumber", DataType.Int64, Nullable: false, HasDefault: true));
            schemas.Add(new TableSchema(t.LogicalName!, t.EntitySetName!, columns, [t.PrimaryKey], VersionColumn: "versionnumber"));
        }

        var schema = new DataSchema(schemas, relationships, "Microsoft.Dynamics.CRM");
        schema.Validate();
        return schema;
    }

    /// <summary>Reads a JSON value as the CLR value of the column's type, checking length and choice options.</summary>
    /// <exception cref="TableRequestException">The value does not fit.</exception>
    public static object ParseValue(ColumnDefinition column, JsonElement value, string field)
    {
        ArgumentNullException.ThrowIfNull(column);
        var name = column.LogicalName;
        try
        {
            object result = column.Type switch
            {
                "text" or "memo" => value.GetString()!,
                "integer" or "choice" => value.GetInt32(),
                "bigint" => value.GetInt64(),
                "decimal" or "money" => value.GetDecimal(),
                "float" => value.GetDouble(),
                "boolean" => value.GetBoolean(),
                "datetime" => value.GetDateTimeOffset().UtcDateTime,
                "date" => DateOnly.ParseExact(value.GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                _ => value.GetGuid(),
            };
            if (result is string s && column.MaxLength is { } max && s.Length > max)
            {
                throw new TableRequestException(field, $"Column '{name}': the value is longer than {max.ToString(CultureInfo.InvariantCulture)} characters.");
            }

            if (column.Type == "choice" && !column.Options!.Any(o => o.Value == (int)result))
            {
                throw new TableRequestException(field, $"Column '{name}': {result} is not one of its options ({string.Join(", ", column.Options!.Select(o => o.Value))}).");
            }

            return result;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new TableRequestException(field, $"Column '{name}': the value is not a valid {column.Type}.");
        }
    }

    internal static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
