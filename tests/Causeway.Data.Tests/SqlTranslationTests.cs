using System.Text.Json;

namespace Causeway.Data.Tests;

public sealed class SqlTranslationTests
{
    public static TheoryData<string> Dialects => ["sqlite", "postgresql", "sqlserver"];

    private static SqlDialect Dialect(string name) => name switch
    {
        "sqlite" => SqlDialect.Sqlite,
        "postgresql" => SqlDialect.PostgreSql,
        _ => SqlDialect.SqlServer,
    };

    [Fact]
    public void ParseQuery_FilterOrderTop_Sqlite_EmitsExpectedText()
    {
        var plan = TestSchema.Plan(SqlDialect.Sqlite, "$filter=name eq 'O''Brien' and price gt 5&$orderby=price desc&$top=10&$select=name");
        Assert.Equal(
            "SELECT t0.\"productid\" AS c0, t0.\"name\" AS c1, t0.\"versionnumber\" AS c2, t0.\"price\" AS o0 FROM \"product\" t0 " +
            "WHERE ((t0.\"name\" = @p0) AND (t0.\"price\" > @p1)) " +
            "ORDER BY t0.\"price\" DESC, t0.\"productid\" ASC LIMIT @p2",
            plan.Sql);
        Assert.Equal(["O'Brien", 5d, 10L], plan.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void ParseQuery_FilterOrderTop_PostgreSql_EmitsExpectedText()
    {
        var plan = TestSchema.Plan(SqlDialect.PostgreSql, "$filter=name eq 'x' and price gt 5&$orderby=price desc&$top=10&$skip=20&$select=name");
        Assert.Equal(
            "SELECT t0.\"productid\" AS c0, t0.\"name\" AS c1, t0.\"versionnumber\" AS c2, t0.\"price\" AS o0 FROM \"product\" t0 " +
            "WHERE ((t0.\"name\" = @p0) AND (t0.\"price\" > @p1)) " +
            "ORDER BY t0.\"price\" DESC NULLS LAST, t0.\"productid\" ASC LIMIT @p2 OFFSET @p3",
            plan.Sql);
        Assert.Equal(["x", 5m, 10L, 20L], plan.Parameters.Select(p => p.Value));
    }

    [Fact]
    public void ParseQuery_FilterOrderTop_SqlServer_EmitsExpectedText()
    {
        var plan = TestSchema.Plan(SqlDialect.SqlServer, "$filter=name eq 'x' and price gt 5&$orderby=price desc&$top=10&$skip=20&$select=name");
        Assert.Equal(
            "SELECT t0.[productid] AS c0, t0.[name] AS c1, t0.[versionnumber] AS c2, t0.[price] AS o0 FROM [product] t0 " +
            "WHERE ((t0.[name] = @p0) AND (t0.[price] > @p1)) " +
            "ORDER BY t0.[price] DESC, t0.[productid] ASC OFFSET @p3 ROWS FETCH NEXT @p2 ROWS ONLY",
            plan.Sql);
    }

    [Theory]
    [InlineData("sqlite", "t0.\"price\" ASC, t0.\"name\" DESC, t0.\"productid\" ASC")]
    [InlineData("postgresql", "t0.\"price\" ASC NULLS FIRST, t0.\"name\" DESC, t0.\"productid\" ASC")]
    [InlineData("sqlserver", "t0.[price] ASC, t0.[name] DESC, t0.[productid] ASC")]
    public void ParseQuery_OrderByNullableColumn_NullsFirstAscendingWithoutCaseExpressions(string dialect, string expected)
    {
        // A plain term lets an index on (price, key) serve the order; a CASE expression would force a sort.
        var plan = TestSchema.Plan(Dialect(dialect), "$orderby=price,name desc&$select=name");
        Assert.Contains($" ORDER BY {expected} ", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("CASE", plan.Sql, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public void ParseQuery_ExpandCollection_BuildsJsonInOneStatement(string dialect)
    {
        var plan = TestSchema.Plan(Dialect(dialect), "$expand=products($select=name;$filter=price lt 3;$orderby=name;$top=2)", set: "categories");
        var expected = dialect switch
        {
            "sqlite" => "json_group_array(json_array(",
            "postgresql" => "json_agg(json_build_array(",
            _ => "FOR JSON PATH, INCLUDE_NULL_VALUES",
        };
        Assert.Contains(expected, plan.Sql, StringComparison.Ordinal);
        Assert.Contains("ROW_NUMBER() OVER (ORDER BY", plan.Sql, StringComparison.Ordinal);
        Assert.Single(plan.Parameters, p => p.Value is 3d or 3m);
        Assert.DoesNotContain("3", plan.Sql.Replace("@p", string.Empty, StringComparison.Ordinal).Replace("t3", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public void ParseQuery_StringFunctions_EveryLiteralIsParameter(string dialect)
    {
        var plan = TestSchema.Plan(Dialect(dialect), "$filter=contains(name,'QA1') and startswith(name,'QB2') and endswith(name,'QC3') and indexof(name,'QD4') eq 1 and substring(name,2,3) eq 'QE5' and concat(name,'QF6') ne 'QG7' and year(created) eq 2024 and category/name eq 'QH8'");
        foreach (var literal in new[] { "QA1", "QB2", "QC3", "QD4", "QE5", "QF6", "QG7", "QH8", "2024" })
        {
            Assert.DoesNotContain(literal, plan.Sql, StringComparison.Ordinal);
            Assert.Contains(plan.Parameters, p => p.Value.ToString() == literal);
        }
    }

    [Fact]
    public void ParseQuery_AnyAllAndIn_TranslateToExistsAndIn()
    {
        var plan = TestSchema.Plan(SqlDialect.PostgreSql, "$filter=products/any(p: p/price gt 1) and products/all(p: p/instock) and categoryid in (1, 2, 3)", set: "categories");
        Assert.Contains("EXISTS (SELECT 1 FROM \"product\"", plan.Sql, StringComparison.Ordinal);
        Assert.Contains("NOT EXISTS (SELECT 1 FROM \"product\"", plan.Sql, StringComparison.Ordinal);
        Assert.Contains("IN (@p", plan.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseQuery_NullComparisons_UseIsNull()
    {
        var plan = TestSchema.Plan(SqlDialect.Sqlite, "$filter=price eq null or created ne null");
        Assert.Contains("(t0.\"price\" IS NULL)", plan.Sql, StringComparison.Ordinal);
        Assert.Contains("(t0.\"created\" IS NOT NULL)", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Parameters, p => p.Value is DBNull);
    }

    [Fact]
    public void ParseQuery_UnknownProperty_ThrowsBadRequestNamingIt()
    {
        var ex = Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, "$filter=nmae eq 'x'"));
        Assert.Equal(400, ex.StatusCode);
        Assert.Contains("Could not find a property named 'nmae'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DataErrorCodes.InvalidQuery, ex.Code);
    }

    [Fact]
    public void ParseQuery_UnknownEntitySet_Throws404()
    {
        var ex = Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, string.Empty, set: "nothing"));
        Assert.Equal(404, ex.StatusCode);
    }

    [Theory]
    [InlineData("$skip=5")]
    [InlineData("$search=abc")]
    [InlineData("$apply=aggregate(price with sum as total)")]
    [InlineData("$top=-1")]
    [InlineData("$filter=name")]
    [InlineData("$orderby=nope")]
    [InlineData("$select=name,nope")]
    [InlineData("$expand=nope")]
    [InlineData("$filter=name eq 'unterminated")]
    [InlineData("$skiptoken=not-a-token")]
    public void ParseQuery_BadOrRefusedOption_ThrowsBadRequest(string query)
    {
        var ex = Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, query, limits: new QueryLimits { AllowSkip = false }));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void ParseQuery_DeepNesting_ThrowsBadRequestInsteadOfOverflowing()
    {
        var deep = "$filter=" + new string('(', 5000) + "price gt 1" + new string(')', 5000);
        Assert.Equal(400, Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, deep)).StatusCode);
        var chain = "$filter=" + string.Join(" or ", Enumerable.Repeat("price gt 1", 400));
        Assert.Equal(400, Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, chain)).StatusCode);
        var nots = "$filter=" + string.Concat(Enumerable.Repeat("not ", 1500)) + "instock";
        Assert.Equal(400, Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, nots)).StatusCode);
    }

    [Fact]
    public void ParseQuery_ExpansionBeyondLimit_ThrowsBadRequest()
    {
        var ex = Assert.Throws<DataRequestException>(() => TestSchema.Plan(SqlDialect.Sqlite, "$expand=category($expand=products($expand=category))", limits: new QueryLimits { MaxExpansionDepth = 2 }));
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void ParseQuery_SameRequestTwice_ReusesCachedPlan()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.Sqlite);
        var options = ChinookDatabases.ParseQueryString("$filter=price gt 2");

        // Admission: the first sight translates only, the second translates and stores, later ones reuse.
        var first = engine.ParseQuery("products", null, options);
        var second = engine.ParseQuery("products", null, options);
        Assert.NotSame(first, second);
        Assert.Same(second, engine.ParseQuery("products", null, options));
        Assert.Same(second, engine.ParseQuery("products", null, options));
        var limited = new QueryLimits { PageSize = 10 };
        engine.ParseQuery("products", null, options, limited);
        Assert.NotSame(second, engine.ParseQuery("products", null, options, limited));
    }

    [Fact]
    public void ParseQuery_ByKey_OnePlanServesEveryKey_KeyParsedEachTime()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.Sqlite);
        var options = ChinookDatabases.ParseQueryString("$select=name&$expand=category($select=name)");
        var keys = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        var plans = keys.Select(k => engine.ParseQuery("products", k.ToString(), options)).ToArray();
        Assert.All(plans, p => Assert.Equal(plans[0].Sql, p.Sql));
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal([keys[i].ToString("D")], plans[i].Parameters.Select(p => p.Value));
        }

        Assert.Same(plans[2].Sql, plans[3].Sql);

        // A bad key is refused whether or not the plan is cached, with the same message.
        var refused = Assert.Throws<DataRequestException>(() => engine.ParseQuery("products", "not-a-guid", options));
        Assert.Equal(400, refused.StatusCode);
        var fresh = Assert.Throws<DataRequestException>(() => new DataEngine(TestSchema.Create(), SqlDialect.Sqlite).ParseQuery("products", "not-a-guid", options));
        Assert.Equal(fresh.Message, refused.Message);
        Assert.Equal(400, Assert.Throws<DataRequestException>(() => engine.ParseQuery("categories", "'x'", ChinookDatabases.ParseQueryString(""))).StatusCode);
    }

    [Fact]
    public void BuildWrite_UpsertAndUpdate_SqlServer_UsesMergeAndOutput()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.SqlServer);
        using var body = JsonDocument.Parse("""{"name":"Hammer","price":9.5,"instock":true}""");
        var upsert = engine.BuildWrite(WriteKind.Upsert, "products", "11111111-2222-3333-4444-555555555555", body.RootElement);
        Assert.StartsWith("MERGE INTO [product] WITH (HOLDLOCK) AS target USING (SELECT", upsert.Sql, StringComparison.Ordinal);
        Assert.Contains("[versionnumber] = target.[versionnumber] + 1", upsert.Sql, StringComparison.Ordinal);
        Assert.Contains("OUTPUT INSERTED.[productid], INSERTED.[versionnumber]", upsert.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("Hammer", upsert.Sql, StringComparison.Ordinal);

        var update = engine.BuildWrite(WriteKind.Update, "products", "11111111-2222-3333-4444-555555555555", body.RootElement, expectedVersion: 4);
        Assert.Matches(@"^UPDATE \[product\] SET .* OUTPUT INSERTED\.\[productid\], INSERTED\.\[versionnumber\] WHERE \[productid\] = @p\d+ AND \[versionnumber\] = @p\d+$", update.Sql);
        Assert.Contains(update.Parameters, p => p.Value is 4L);
    }

    [Fact]
    public void BuildWrite_Upsert_PostgreSql_UsesOnConflict()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.PostgreSql);
        using var body = JsonDocument.Parse("""{"name":"Hammer"}""");
        var upsert = engine.BuildWrite(WriteKind.Upsert, "products", "11111111-2222-3333-4444-555555555555", body.RootElement);
        Assert.Contains("ON CONFLICT (\"productid\") DO UPDATE SET \"name\" = excluded.\"name\", \"versionnumber\" = \"product\".\"versionnumber\" + 1 RETURNING \"productid\", \"versionnumber\"", upsert.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteMetadata_Schema_WritesCsdlWithSetsAndNavigations()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.Sqlite);
        using var buffer = new MemoryStream();
        engine.WriteMetadata(buffer);
        var xml = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        Assert.Contains("<EntitySet Name=\"products\" EntityType=\"Causeway.product\">", xml, StringComparison.Ordinal);
        Assert.Contains("<NavigationProperty Name=\"category\" Type=\"Causeway.category\"", xml, StringComparison.Ordinal);
        Assert.Contains("<NavigationProperty Name=\"products\" Type=\"Collection(Causeway.product)\"", xml, StringComparison.Ordinal);
        Assert.Contains("Edmx Version=\"4.0\"", xml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteServiceDocument_Schema_ListsEntitySets()
    {
        var engine = new DataEngine(TestSchema.Create(), SqlDialect.Sqlite);
        using var buffer = new MemoryStream();
        await engine.WriteServiceDocumentAsync(buffer, new Uri("https://h/api/data/v9.2/"));
        var doc = JsonDocument.Parse(buffer.ToArray()).RootElement;
        Assert.Equal("https://h/api/data/v9.2/$metadata", doc.GetProperty("@odata.context").GetString());
        Assert.Equal(["categories", "products"], doc.GetProperty("value").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
    }

    [Fact]
    public void SqlServerCatalogQueries_ReadSysTables()
    {
        Assert.Contains("FROM sys.tables t", SchemaReader.SqlServerQueries.Columns, StringComparison.Ordinal);
        Assert.Contains("i.is_primary_key = 1", SchemaReader.SqlServerQueries.Keys, StringComparison.Ordinal);
        Assert.Contains("sys.foreign_key_columns", SchemaReader.SqlServerQueries.ForeignKeys, StringComparison.Ordinal);
    }

    [Fact]
    public void Assemble_CatalogRows_AppliesNavigationNamingRules()
    {
        var columns = new List<SchemaReader.ColumnRow>
        {
            new("dbo", "Employee", "EmployeeId", "int", false, null, true, true),
            new("dbo", "Employee", "ReportsTo", "int", true, null, false, false),
            new("dbo", "Customer", "CustomerId", "int", false, null, true, true),
            new("dbo", "Customer", "SupportRepId", "int", true, null, false, false),
            new("dbo", "Customer", "Name", "nvarchar", false, 40, false, false),
            new("dbo", "Customer", "Photo", "sql_variant", true, null, false, false),
        };
        var keys = new List<SchemaReader.KeyRow> { new("dbo", "Employee", "EmployeeId", 1), new("dbo", "Customer", "CustomerId", 1) };
        var fks = new List<SchemaReader.ForeignKeyRow>
        {
            new("FK_1", "dbo", "Employee", "ReportsTo", "dbo", "Employee", "EmployeeId"),
            new("FK_2", "dbo", "Customer", "SupportRepId", "dbo", "Employee", "EmployeeId"),
        };
        var schema = SchemaReader.Assemble(columns, keys, fks);
        Assert.Equal(("ReportsTo_Employee", "Employee"), (schema.Relationships[0].NavigationName, schema.Relationships[0].CollectionNavigationName));
        Assert.Equal(("SupportRep", "Customer"), (schema.Relationships[1].NavigationName, schema.Relationships[1].CollectionNavigationName));
        var customer = schema.Tables.Single(t => t.Name == "Customer");
        Assert.Null(customer.FindColumn("Photo"));
        Assert.Equal(40, customer.FindColumn("Name")!.MaxLength);
        Assert.Equal("dbo", customer.Schema);
    }
}
