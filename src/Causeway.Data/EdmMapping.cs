using Microsoft.OData.Edm;

namespace Causeway.Data;

/// <summary>The EDM model of a schema plus the way back from EDM elements to tables, columns and relationships.</summary>
internal sealed class EdmMapping
{
    private readonly Dictionary<IEdmEntityType, TableSchema> _tablesByType = [];
    private readonly Dictionary<string, (TableSchema Table, EdmEntitySet Set, EdmEntityType Type)> _sets = new(StringComparer.Ordinal);
    private readonly Dictionary<IEdmNavigationProperty, Navigation> _navigations = [];

    public EdmMapping(DataSchema schema)
    {
        schema.Validate();
        Schema = schema;
        var model = new EdmModel();
        var container = new EdmEntityContainer(schema.Namespace, "Container");
        model.AddElement(container);
        var types = new Dictionary<string, (TableSchema Table, EdmEntityType Type, EdmEntitySet Set)>(StringComparer.Ordinal);
        foreach (var table in schema.Tables)
        {
            var type = new EdmEntityType(schema.Namespace, table.Name);
            foreach (var column in table.Columns)
            {
                var property = type.AddStructuralProperty(column.Name, TypeReference(column));
                if (table.Key.Contains(column.Name, StringComparer.Ordinal))
                {
                    type.AddKeys(property);
                }
            }

            model.AddElement(type);
            var set = container.AddEntitySet(table.EntitySetName, type);
            types[table.Name] = (table, type, set);
            _tablesByType[type] = table;
            _sets[table.EntitySetName] = (table, set, type);
        }

        foreach (var r in schema.Relationships)
        {
            var from = types[r.ReferencingTable];
            var to = types[r.ReferencedTable];
            var fk = (IEdmStructuralProperty)from.Type.FindProperty(r.ReferencingColumn);
            var pk = (IEdmStructuralProperty)to.Type.FindProperty(r.ReferencedColumn);
            var single = from.Type.AddBidirectionalNavigation(
                new EdmNavigationPropertyInfo
                {
                    Name = r.NavigationName,
                    Target = to.Type,
                    TargetMultiplicity = from.Table.FindColumn(r.ReferencingColumn)!.Nullable ? EdmMultiplicity.ZeroOrOne : EdmMultiplicity.One,
                    DependentProperties = [fk],
                    PrincipalProperties = [pk],
                },
                new EdmNavigationPropertyInfo
                {
                    Name = r.CollectionNavigationName,
                    Target = from.Type,
                    TargetMultiplicity = EdmMultiplicity.Many,
                });
            var collection = single.Partner;
            from.Set.AddNavigationTarget(single, to.Set);
            to.Set.AddNavigationTarget(collection, from.Set);
            _navigations[single] = new Navigation(r, from.Table, to.Table, IsCollection: false);
            _navigations[collection] = new Navigation(r, to.Table, from.Table, IsCollection: true);
        }

        Model = model;
    }

    public DataSchema Schema { get; }

    public IEdmModel Model { get; }

    public bool TryGetEntitySet(string name, out TableSchema table, out IEdmEntitySet set, out IEdmEntityType type)
    {
        if (_sets.TryGetValue(name, out var e))
        {
            (table, set, type) = (e.Table, e.Set, e.Type);
            return true;
        }

        (table, set, type) = (null!, null!, null!);
        return false;
    }

    public TableSchema Table(IEdmType type) => _tablesByType[(IEdmEntityType)type];

    public Navigation NavigationOf(IEdmNavigationProperty property) => _navigations[property];

    public static DataType TypeOf(IEdmTypeReference? reference) => reference?.PrimitiveKind() switch
    {
        EdmPrimitiveTypeKind.String => DataType.String,
        EdmPrimitiveTypeKind.Int32 or EdmPrimitiveTypeKind.Int16 or EdmPrimitiveTypeKind.Byte or EdmPrimitiveTypeKind.SByte => DataType.Int32,
        EdmPrimitiveTypeKind.Int64 => DataType.Int64,
        EdmPrimitiveTypeKind.Decimal => DataType.Decimal,
        EdmPrimitiveTypeKind.Double or EdmPrimitiveTypeKind.Single => DataType.Double,
        EdmPrimitiveTypeKind.Boolean => DataType.Boolean,
        EdmPrimitiveTypeKind.Guid => DataType.Guid,
        EdmPrimitiveTypeKind.DateTimeOffset => DataType.DateTimeOffset,
        EdmPrimitiveTypeKind.Date => DataType.Date,
        EdmPrimitiveTypeKind.Binary => DataType.Binary,
        _ => DataType.String,
    };

    private static IEdmPrimitiveTypeReference TypeReference(ColumnSchema column)
    {
        var kind = column.Type switch
        {
            DataType.String => EdmPrimitiveTypeKind.String,
            DataType.Int32 => EdmPrimitiveTypeKind.Int32,
            DataType.Int64 => EdmPrimitiveTypeKind.Int64,
            DataType.Decimal => EdmPrimitiveTypeKind.Decimal,
            DataType.Double => EdmPrimitiveTypeKind.Double,
            DataType.Boolean => EdmPrimitiveTypeKind.Boolean,
            DataType.Guid => EdmPrimitiveTypeKind.Guid,
            DataType.DateTime or DataType.DateTimeOffset => EdmPrimitiveTypeKind.DateTimeOffset,
            DataType.Date => EdmPrimitiveTypeKind.Date,
            DataType.Binary => EdmPrimitiveTypeKind.Binary,
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
        var primitive = EdmCoreModel.Instance.GetPrimitiveType(kind);
        return kind switch
        {
            EdmPrimitiveTypeKind.String => new EdmStringTypeReference(primitive, column.Nullable, isUnbounded: column.MaxLength is null, column.MaxLength, isUnicode: true),
            EdmPrimitiveTypeKind.Binary => new EdmBinaryTypeReference(primitive, column.Nullable, isUnbounded: column.MaxLength is null, column.MaxLength),
            EdmPrimitiveTypeKind.Decimal => new EdmDecimalTypeReference(primitive, column.Nullable, precision: null, scale: null),
            _ => new EdmPrimitiveTypeReference(primitive, column.Nullable),
        };
    }
}

/// <summary>A navigation property seen from <see cref="Source"/>: collection (one-to-many) or single (many-to-one).</summary>
internal sealed record Navigation(RelationshipSchema Relationship, TableSchema Source, TableSchema Target, bool IsCollection)
{
    /// <summary>Column on the source side of the join condition.</summary>
    public string SourceColumn => IsCollection ? Relationship.ReferencedColumn : Relationship.ReferencingColumn;

    /// <summary>Column on the target side of the join condition.</summary>
    public string TargetColumn => IsCollection ? Relationship.ReferencingColumn : Relationship.ReferencedColumn;
}
