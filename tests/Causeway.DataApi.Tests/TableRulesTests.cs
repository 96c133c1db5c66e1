using System.Text.Json;
using Causeway.Data;

namespace Causeway.DataApi.Tests;

public sealed class TableRulesTests
{
    private static readonly TableDefinition Category = TableRules.NormalizeTable(new TableDefinition("category", Columns: [new ColumnDefinition("name", Type: "text")]), []);

    [Theory]
    [InlineData("product", "products")]
    [InlineData("category", "categories")]
    [InlineData("day", "days")]
    [InlineData("box", "boxes")]
    [InlineData("status", "statuses")]
    [InlineData("batch", "batches")]
    public void Plural_EnglishRules_DataverseLikeEntitySetNames(string name, string plural) => Assert.Equal(plural, TableRules.Plural(name));

    [Theory]
    [InlineData("a")]
    [InlineData("new_product2")]
    public void CheckName_Valid_Null(string name) => Assert.Null(TableRules.CheckName("logicalName", name));

    [Theory]
    [InlineData("")]
    [InlineData("Product")]
    [InlineData("2nd")]
    [InlineData("_x")]
    [InlineData("a-b")]
    [InlineData("a b")]
    [InlineData("x\"; DROP TABLE y; --")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijk")]
    public void CheckName_Invalid_Message(string name) => Assert.NotNull(TableRules.CheckName("logicalName", name));

    [Fact]
    public void NormalizeTable_Defaults_DisplayNameSetTextLengthAndKey()
    {
        Assert.Equal("categories", Category.EntitySetName);
        Assert.Equal("category", Category.DisplayName);
        Assert.Equal("categoryid", Category.PrimaryKey);
        Assert.Equal(100, Category.Columns![0].MaxLength);
        Assert.False(Category.Columns[0].Required);
    }

    [Fact]
    public void ToDataSchema_Lookup_ReadOnlyValueColumnAndBothNavigations()
    {
        var product = TableRules.NormalizeTable(new TableDefinition("product", Columns: [new ColumnDefinition("category", Type: "lookup", Target: "category")]), [Category]);

        var schema = TableRules.ToDataSchema([Category, product]);

        var table = schema.Tables.Single(t => t.Name == "product");
        Assert.Equal(["productid", "_category_value", "createdon", "modifiedon", "versionnumber"], table.Columns.Select(c => c.Name));
        Assert.True(table.FindColumn("_category_value")!.ReadOnly);
        Assert.Equal("versionnumber", table.VersionColumn);
        var relationship = Assert.Single(schema.Relationships);
        Assert.Equal(("category", "product_category", "categoryid"), (relationship.NavigationName, relationship.CollectionNavigationName, relationship.ReferencedColumn));
        _ = new DataEngine(schema, SqlDialect.Sqlite);
    }

    [Fact]
    public void NormalizeTable_SelfLookup_Allowed()
    {
        var employee = TableRules.NormalizeTable(new TableDefinition("employee", Columns: [new ColumnDefinition("manager", Type: "lookup", Target: "employee")]), []);

        Assert.Equal("employee_manager", TableRules.ToDataSchema([employee]).Relationships.Single().CollectionNavigationName);
    }

    [Fact]
    public void NormalizeColumn_RequiredWithoutDefaultOnExistingTable_Refused()
    {
        var error = Assert.Throws<TableRequestException>(() => TableRules.NormalizeColumn(Category, new ColumnDefinition("rank", Type: "integer", Required: true), [], "column", newTable: false));

        Assert.Equal("column.required", error.Field);
    }

    [Theory]
    [InlineData("text", "\"toolong\"")]
    [InlineData("integer", "\"three\"")]
    [InlineData("choice", "9")]
    [InlineData("date", "\"2024-13-01\"")]
    [InlineData("guid", "\"nope\"")]
    public void NormalizeColumn_BadDefault_Refused(string type, string json)
    {
        var column = new ColumnDefinition("x", Type: type, MaxLength: type == "text" ? 3 : null, Default: JsonDocument.Parse(json).RootElement,
            Options: type == "choice" ? [new ChoiceOption(1, "One")] : null);

        Assert.Throws<TableRequestException>(() => TableRules.NormalizeColumn(Category, column, [], "column", newTable: true));
    }

    [Fact]
    public void NormalizeColumn_CollectionNavigationClash_Refused()
    {
        var target = TableRules.NormalizeTable(new TableDefinition("target", Columns: [new ColumnDefinition("a_b_c", Type: "text")]), []);

        Assert.Throws<TableRequestException>(() => TableRules.NormalizeTable(new TableDefinition("a_b", Columns: [new ColumnDefinition("c", Type: "lookup", Target: "target")]), [target]));
    }
}
