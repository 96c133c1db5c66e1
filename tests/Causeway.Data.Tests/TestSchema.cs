namespace Causeway.Data.Tests;

/// <summary>A small hand-written schema: products in categories, products carry a version for ETags.</summary>
internal static class TestSchema
{
    public static DataSchema Create() => new(
        [
            new TableSchema("category", "categories",
                [
                    new ColumnSchema("categoryid", DataType.Int32, Nullable: false),
                    new ColumnSchema("name", DataType.String, Nullable: false, MaxLength: 100),
                ],
                ["categoryid"]),
            new TableSchema("product", "products",
                [
                    new ColumnSchema("productid", DataType.Guid, Nullable: false),
                    new ColumnSchema("name", DataType.String, Nullable: false, MaxLength: 50),
                    new ColumnSchema("price", DataType.Decimal),
                    new ColumnSchema("instock", DataType.Boolean, Nullable: false, HasDefault: true),
                    new ColumnSchema("created", DataType.DateTimeOffset),
                    new ColumnSchema("categoryid", DataType.Int32),
                    new ColumnSchema("versionnumber", DataType.Int64, Nullable: false, HasDefault: true),
                ],
                ["productid"],
                VersionColumn: "versionnumber"),
        ],
        [new RelationshipSchema("fk_product_category", "product", "categoryid", "category", "categoryid", "category", "products")]);

    public const string SqliteDdl = """
        CREATE TABLE category (categoryid INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE product (
            productid TEXT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC, instock INTEGER NOT NULL DEFAULT 1,
            created TEXT, categoryid INTEGER REFERENCES category(categoryid), versionnumber INTEGER NOT NULL DEFAULT 1);
        INSERT INTO category VALUES (1, 'Tools'), (2, 'Toys');
        """;

    public static QueryPlan Plan(SqlDialect dialect, string query, string set = "products", string? key = null, QueryLimits? limits = null) =>
        new DataEngine(Create(), dialect).ParseQuery(set, key, ChinookDatabases.ParseQueryString(query), limits);
}
