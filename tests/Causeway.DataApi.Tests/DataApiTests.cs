using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Causeway.Testing;

namespace Causeway.DataApi.Tests;

/// <summary>
/// Tables and the Data API against a real server. Runs once per database provider (see the derived classes): the same
/// behaviour is expected whether the environment's database is SQLite or PostgreSQL.
/// </summary>
public abstract class DataApiTests
{
    private static readonly string[] SqlLeaks = ["SQLite", "syntax error", "relation", "constraint failed", "violates", "Npgsql", "SELECT", "INSERT"];

    protected abstract Task<IDictionary<string, string?>> ProviderSettingsAsync();

    private async Task<ServerHost> StartAsync(TimeProvider? time = null) => await ServerHost.StartAsync(await ProviderSettingsAsync(), time);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<Guid> CreateEnvironmentAsync(HttpClient client, string name, string type = "production")
    {
        var response = await client.PostAsJsonAsync("/api/v1/environments", new { name, geography = "europe", type });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("id").GetGuid();
    }

    private static async Task CreateShopTablesAsync(HttpClient client, Guid environment)
    {
        var category = await client.PostAsJsonAsync($"/api/v1/environments/{environment}/tables", new
        {
            logicalName = "category",
            displayName = "Category",
            columns = new object[] { new { logicalName = "name", type = "text", maxLength = 50, required = true } },
        });
        Assert.Equal(HttpStatusCode.Created, category.StatusCode);
        var product = await client.PostAsJsonAsync($"/api/v1/environments/{environment}/tables", new
        {
            logicalName = "product",
            displayName = "Product",
            columns = new object[]
            {
                new { logicalName = "name", type = "text", maxLength = 100, required = true },
                new { logicalName = "price", type = "decimal" },
                new { logicalName = "category", type = "lookup", target = "category" },
                new { logicalName = "color", type = "choice", options = new[] { new { value = 1, label = "Red" }, new { value = 2, label = "Blue" } } },
                new { logicalName = "instock", type = "boolean", @default = true },
            },
        });
        Assert.Equal(HttpStatusCode.Created, product.StatusCode);
        var body = await JsonAsync(product);
        Assert.Equal("products", body.GetProperty("entitySetName").GetString());
        Assert.Equal("productid", body.GetProperty("primaryKey").GetString());
    }

    private static async Task<Guid> PostAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var entityId = response.Headers.GetValues("OData-EntityId").Single();
        return Guid.Parse(entityId[(entityId.LastIndexOf('(') + 1)..^1]);
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.StartsWith("0x", error.GetProperty("code").GetString(), StringComparison.Ordinal);
        var message = error.GetProperty("message").GetString()!;
        Assert.DoesNotContain(SqlLeaks, leak => message.Contains(leak, StringComparison.OrdinalIgnoreCase));
        return message;
    }

    private static HttpRequestMessage Request(HttpMethod method, string url, object? body = null, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    [Fact]
    public async Task Maker_CreatesTablesInsertsAndQueries_WithFiltersExpansionAndPaging()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "shop");
        var user = await JsonAsync(await admin.PostAsJsonAsync("/api/v1/users", new { name = "mia" }));
        var userId = user.GetProperty("id").GetGuid();
        var token = (await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "mia", userId }))).GetProperty("token").GetString();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/environments/{environment}/roles/{userId}", new { role = "environmentMaker" })).StatusCode);
        using var maker = host.Client(token);
        await CreateShopTablesAsync(maker, environment);
        const string api = "/environments/shop/api/data/v9.2/";

        var tools = await PostAsync(maker, api + "categories", new { name = "Tools" });
        var toys = await PostAsync(maker, api + "categories", new { name = "Toys" });
        for (var i = 1; i <= 5; i++)
        {
            await PostAsync(maker, api + "products", new Dictionary<string, object>
            {
                ["name"] = $"Hammer {i}",
                ["price"] = 10.5m * i,
                ["color"] = i % 2 + 1,
                ["category@odata.bind"] = $"/categories({(i <= 3 ? tools : toys)})",
            });
        }

        var filtered = await maker.GetFromJsonAsync<JsonElement>(api + "products?$filter=price gt 20 and category/name eq 'Tools'&$select=name,price,_category_value&$orderby=price desc&$expand=category($select=name)");
        var rows = filtered.GetProperty("value").EnumerateArray().ToList();
        Assert.Equal(["Hammer 3", "Hammer 2"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.All(rows, r => Assert.Equal("Tools", r.GetProperty("category").GetProperty("name").GetString()));
        Assert.Equal(tools, rows[0].GetProperty("_category_value").GetGuid());
        Assert.All(rows, r => Assert.NotEqual(Guid.Empty, r.GetProperty("productid").GetGuid()));

        // As in Dataverse: keys in every row, expanded ones too, though the context lists only what was selected.
        Assert.All(rows, r => Assert.Equal(tools, r.GetProperty("category").GetProperty("categoryid").GetGuid()));
        Assert.DoesNotContain("productid", filtered.GetProperty("@odata.context").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("W/\"", rows[0].GetProperty("@odata.etag").GetString(), StringComparison.Ordinal);

        var collection = await maker.GetFromJsonAsync<JsonElement>(api + $"categories({toys})?$expand=product_category($select=name;$orderby=name)");
        Assert.Equal(["Hammer 4", "Hammer 5"], collection.GetProperty("product_category").EnumerateArray().Select(p => p.GetProperty("name").GetString()));

        var names = new List<string>();
        var url = api + "products?$select=name&$orderby=name&$count=true";
        var pages = 0;
        while (url is not null)
        {
            using var page = Request(HttpMethod.Get, url, null, ("Prefer", "odata.maxpagesize=2"));
            var response = await maker.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("odata.maxpagesize=2", response.Headers.GetValues("Preference-Applied").Single());
            var body = await JsonAsync(response);
            if (pages == 0)
            {
                Assert.Equal(5, body.GetProperty("@odata.count").GetInt32());
            }

            names.AddRange(body.GetProperty("value").EnumerateArray().Select(r => r.GetProperty("name").GetString()!));
            url = body.TryGetProperty("@odata.nextLink", out var next) ? next.GetString() : null;
            pages++;
        }

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"Hammer {i}"), names);

        var one = await maker.GetFromJsonAsync<JsonElement>(api + "products?$filter=name eq 'Hammer 1'");
        var first = one.GetProperty("value")[0];
        Assert.True(first.GetProperty("instock").GetBoolean());
        Assert.NotEqual(default, first.GetProperty("createdon").GetDateTimeOffset());
        Assert.Equal(2, first.GetProperty("color").GetInt32());
    }

    [Fact]
    public async Task Writes_ReturnRepresentationETagsUpsertAndDelete_FollowDataverse()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "writes");
        await CreateShopTablesAsync(admin, environment);
        const string api = "/environments/writes/api/data/v9.2/";

        using var create = Request(HttpMethod.Post, api + "categories?$select=name", new { name = "Garden" }, ("Prefer", "return=representation"));
        var created = await admin.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("return=representation", created.Headers.GetValues("Preference-Applied").Single());
        var row = await JsonAsync(created);
        Assert.Equal("Garden", row.GetProperty("name").GetString());
        var id = row.GetProperty("categoryid").GetGuid();
        Assert.EndsWith($"categories({id})", created.Headers.GetValues("OData-EntityId").Single(), StringComparison.Ordinal);
        var etag = row.GetProperty("@odata.etag").GetString()!;
        var rowUrl = api + $"categories({id})";
        var before = (await admin.GetFromJsonAsync<JsonElement>(rowUrl)).GetProperty("modifiedon").GetDateTimeOffset();

        using var stale = Request(HttpMethod.Patch, rowUrl, new { name = "Stale" }, ("If-Match", "W/\"999\""));
        await ErrorAsync(await admin.SendAsync(stale), HttpStatusCode.PreconditionFailed);

        using var update = Request(HttpMethod.Patch, rowUrl, new { name = "Backyard" }, ("If-Match", etag));
        var updated = await admin.SendAsync(update);
        Assert.Equal(HttpStatusCode.NoContent, updated.StatusCode);
        var after = await admin.GetFromJsonAsync<JsonElement>(rowUrl);
        Assert.Equal("Backyard", after.GetProperty("name").GetString());
        Assert.NotEqual(etag, after.GetProperty("@odata.etag").GetString());
        Assert.True(after.GetProperty("modifiedon").GetDateTimeOffset() >= before);

        using var reuse = Request(HttpMethod.Patch, rowUrl, new { name = "Again" }, ("If-Match", etag));
        await ErrorAsync(await admin.SendAsync(reuse), HttpStatusCode.PreconditionFailed);

        var newId = Guid.NewGuid();
        using var upsert = Request(HttpMethod.Patch, api + $"categories({newId})", new { name = "Upserted" });
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(upsert)).StatusCode);
        Assert.Equal("Upserted", (await admin.GetFromJsonAsync<JsonElement>(api + $"categories({newId})")).GetProperty("name").GetString());

        using var partial = Request(HttpMethod.Patch, api + $"categories({newId})", new { });
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(partial)).StatusCode);

        using var createOnly = Request(HttpMethod.Patch, api + $"categories({newId})", new { name = "Twice" }, ("If-None-Match", "*"));
        await ErrorAsync(await admin.SendAsync(createOnly), HttpStatusCode.PreconditionFailed);

        using var updateOnly = Request(HttpMethod.Patch, api + $"categories({Guid.NewGuid()})", new { name = "Nobody" }, ("If-Match", "*"));
        await ErrorAsync(await admin.SendAsync(updateOnly), HttpStatusCode.NotFound);

        using var wrongDelete = Request(HttpMethod.Delete, rowUrl, null, ("If-Match", etag));
        await ErrorAsync(await admin.SendAsync(wrongDelete), HttpStatusCode.PreconditionFailed);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(rowUrl)).StatusCode);
        await ErrorAsync(await admin.GetAsync(rowUrl), HttpStatusCode.NotFound);
        await ErrorAsync(await admin.DeleteAsync(rowUrl), HttpStatusCode.NotFound);

        var service = await admin.GetFromJsonAsync<JsonElement>(api);
        Assert.Equal(["categories", "products"], service.GetProperty("value").EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order());
        var metadata = await admin.GetAsync(api + "$metadata");
        Assert.Equal("application/xml", metadata.Content.Headers.ContentType?.MediaType);
        var csdl = await metadata.Content.ReadAsStringAsync();
        Assert.Contains("NavigationProperty Name=\"category\"", csdl, StringComparison.Ordinal);
        Assert.Contains("NavigationProperty Name=\"product_category\"", csdl, StringComparison.Ordinal);
        Assert.Contains("Name=\"_category_value\"", csdl, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataApi_BadInput_ClearODataErrorsAndNothingWritten()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "strict");
        await CreateShopTablesAsync(admin, environment);
        const string api = "/environments/strict/api/data/v9.2/";
        var category = await PostAsync(admin, api + "categories", new { name = "Only" });

        Assert.Contains("widgets", await ErrorAsync(await admin.GetAsync(api + "widgets"), HttpStatusCode.NotFound), StringComparison.Ordinal);
        Assert.Contains("nothing", await ErrorAsync(await admin.GetAsync(api + "products?$filter=nothing eq 1"), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        await ErrorAsync(await admin.GetAsync(api + "products?$filter=name eq"), HttpStatusCode.BadRequest);
        await ErrorAsync(await admin.GetAsync(api + "products?$filter=price eq 'cheap'"), HttpStatusCode.BadRequest);
        await ErrorAsync(await admin.GetAsync(api + "products(not-a-guid)"), HttpStatusCode.BadRequest);
        Assert.Contains("$skip", await ErrorAsync(await admin.GetAsync(api + "products?$skip=1"), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        using var hugePage = Request(HttpMethod.Get, api + "products", null, ("Prefer", "odata.maxpagesize=lots"));
        await ErrorAsync(await admin.SendAsync(hugePage), HttpStatusCode.BadRequest);

        Assert.Contains("weight", await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = "A", weight = 3 }), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = "A", price = "expensive" }), HttpStatusCode.BadRequest);
        Assert.Contains("read-only", await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = "A", createdon = "2020-01-01T00:00:00Z" }), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Contains("read-only", await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = "A", _category_value = category }), HttpStatusCode.BadRequest), StringComparison.Ordinal);
        await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = new string('x', 101) }), HttpStatusCode.BadRequest);
        await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { name = "A", color = 7 }), HttpStatusCode.BadRequest);
        await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new { price = 1 }), HttpStatusCode.BadRequest);
        var missing = Guid.NewGuid();
        var unbound = await ErrorAsync(await admin.PostAsJsonAsync(api + "products", new Dictionary<string, object> { ["name"] = "A", ["category@odata.bind"] = $"/categories({missing})" }), HttpStatusCode.NotFound);
        Assert.Contains($"categories({missing})", unbound, StringComparison.Ordinal);
        Assert.Contains("category@odata.bind", unbound, StringComparison.Ordinal);
        using var malformed = new StringContent("{\"name\": ", Encoding.UTF8, "application/json");
        await ErrorAsync(await admin.PostAsync(api + "products", malformed), HttpStatusCode.BadRequest);

        var all = await admin.GetFromJsonAsync<JsonElement>(api + "products?$count=true");
        Assert.Equal(0, all.GetProperty("@odata.count").GetInt32());
    }

    [Fact]
    public async Task Tables_BadDefinitions_ProblemDetailsAndNothingHalfMade()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "schema");
        var tables = $"/api/v1/environments/{environment}/tables";
        async Task<string> ProblemAsync(object body, HttpStatusCode expected, string? url = null)
        {
            var response = await admin.PostAsJsonAsync(url ?? tables, body);
            Assert.Equal(expected, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await JsonAsync(response)).GetProperty("detail").GetString()!;
        }

        await ProblemAsync(new { logicalName = "Bad Name" }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "9lives" }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "causeway_tables" }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "x-y", type = "text" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "a", type = "text" }, new { logicalName = "a", type = "integer" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "thingid", type = "text" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "createdon", type = "datetime" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "a", type = "blob" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "a", type = "text", maxLength = 5000 } } }, HttpStatusCode.BadRequest);
        Assert.Contains("ghost", await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "owner", type = "lookup", target = "ghost" } } }, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "size", type = "integer", @default = "big" } } }, HttpStatusCode.BadRequest);
        await ProblemAsync(new { logicalName = "thing", columns = new[] { new { logicalName = "mood", type = "choice" } } }, HttpStatusCode.BadRequest);

        Assert.Empty(await admin.GetFromJsonAsync<JsonElement[]>(tables) ?? []);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync(tables, new { logicalName = "thing", columns = new[] { new { logicalName = "a", type = "text" } } })).StatusCode);
        await ProblemAsync(new { logicalName = "thing" }, HttpStatusCode.Conflict);
        await ProblemAsync(new { logicalName = "a", type = "integer" }, HttpStatusCode.Conflict, $"{tables}/thing/columns");
        await ProblemAsync(new { logicalName = "b", type = "integer", required = true }, HttpStatusCode.BadRequest, $"{tables}/thing/columns");
        await ProblemAsync(new { logicalName = "b", type = "integer" }, HttpStatusCode.NotFound, $"{tables}/nothing/columns");

        // A column added later is served at once (the cached engine follows the schema version).
        const string api = "/environments/schema/api/data/v9.2/";
        await PostAsync(admin, api + "things", new { a = "first" });
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{tables}/thing/columns", new { logicalName = "size", type = "integer", required = true, @default = 3 })).StatusCode);
        Assert.Equal(3, (await admin.GetFromJsonAsync<JsonElement>(api + "things?$select=size")).GetProperty("value")[0].GetProperty("size").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{tables}/thing/columns/size")).StatusCode);
        await ErrorAsync(await admin.GetAsync(api + "things?$select=size"), HttpStatusCode.BadRequest);

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync(tables, new { logicalName = "part", columns = new[] { new { logicalName = "thing", type = "lookup", target = "thing" } } })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"{tables}/thing")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{tables}/part")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{tables}/thing")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{tables}/thing")).StatusCode);
        await ErrorAsync(await admin.GetAsync(api + "things"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync(tables, new { logicalName = "thing" })).StatusCode);
    }

    [Fact]
    public async Task Authorization_RolesTenantsAndDisabledTrials()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(clock);
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "secure");
        await CreateShopTablesAsync(admin, environment);
        const string api = "/environments/secure/api/data/v9.2/";
        await PostAsync(admin, api + "categories", new { name = "Admin's" });

        var user = await JsonAsync(await admin.PostAsJsonAsync("/api/v1/users", new { name = "ben" }));
        var userId = user.GetProperty("id").GetGuid();
        var token = (await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "ben", userId }))).GetProperty("token").GetString();
        using var ben = host.Client(token);
        await ErrorAsync(await ben.GetAsync(api + "categories"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await ben.GetAsync($"/api/v1/environments/{environment}/tables")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/environments/{environment}/roles/{userId}", new { role = "basicUser" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ben.GetAsync(api + "categories")).StatusCode);
        await PostAsync(ben, api + "categories", new { name = "Ben's" });
        Assert.Equal(HttpStatusCode.OK, (await ben.GetAsync($"/api/v1/environments/{environment}/tables")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ben.PostAsJsonAsync($"/api/v1/environments/{environment}/tables", new { logicalName = "mine" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ben.DeleteAsync($"/api/v1/environments/{environment}/tables/category")).StatusCode);

        var otherToken = await host.CreateTenantAsync("fabrikam");
        using var other = host.Client(otherToken);
        Assert.Contains("secure", await ErrorAsync(await other.GetAsync(api + "categories"), HttpStatusCode.NotFound), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/environments/{environment}/tables")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync($"/api/v1/environments/{environment}/tables", new { logicalName = "mine" })).StatusCode);
        using var anonymous = host.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(api + "categories")).StatusCode);

        var trial = await CreateEnvironmentAsync(admin, "trying", "trial");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/v1/environments/{trial}/tables", new { logicalName = "note" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/environments/trying/api/data/v9.2/notes")).StatusCode);
        clock.Advance(TimeSpan.FromDays(31));
        Assert.Contains("disabled", await ErrorAsync(await admin.GetAsync("/environments/trying/api/data/v9.2/notes"), HttpStatusCode.Forbidden), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsJsonAsync($"/api/v1/environments/{trial}/tables", new { logicalName = "late" })).StatusCode);
    }

    [Fact]
    public async Task RememberedEnvironmentsRolesAndTables_ChangesHereAtOnce_ChangesByAnotherServerWithinTheMemory()
    {
        // The clock stands still, so nothing remembered ever ages out unless the test moves it: every change seen
        // below without moving the clock was seen because the change forgot what was remembered.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(clock);
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "memory");
        var tables = $"/api/v1/environments/{environment}/tables";
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync(tables, new { logicalName = "thing", columns = new[] { new { logicalName = "name", type = "text" } } })).StatusCode);
        const string api = "/environments/memory/api/data/v9.2/";
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api + "things?$select=name")).StatusCode);

        // A column added through this server: the next request sees it.
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{tables}/thing/columns", new { logicalName = "size", type = "integer" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api + "things?$select=size")).StatusCode);

        // A role removed through this server: the next request of that user is refused.
        var userId = (await JsonAsync(await admin.PostAsJsonAsync("/api/v1/users", new { name = "zoe" }))).GetProperty("id").GetGuid();
        var token = (await JsonAsync(await admin.PostAsJsonAsync("/api/v1/tokens", new { name = "zoe", userId }))).GetProperty("token").GetString();
        using var zoe = host.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/environments/{environment}/roles/{userId}", new { role = "basicUser" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await zoe.GetAsync(api + "things")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/environments/{environment}/roles/{userId}")).StatusCode);
        await ErrorAsync(await zoe.GetAsync(api + "things"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/environments/{environment}/roles/{userId}", new { role = "basicUser" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await zoe.GetAsync(api + "things")).StatusCode);

        // Another server process sharing the databases: its own services, whose changes this server's memory does not hear of.
        var otherEnvironments = Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance<Causeway.Environments.EnvironmentService>(host.Services);
        var otherTables = Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance<TableStore>(host.Services);
        var (admitted, _) = await Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Causeway.Platform.Tenancy.TenantStore>(host.Services).AuthenticateAsync(host.AdminToken, default);
        var record = (await otherEnvironments.FindAsync(admitted!.TenantId, environment, default))!;
        await otherTables.AddColumnAsync(record, "thing", new ColumnDefinition("weight", Type: "integer"), default);
        await ErrorAsync(await admin.GetAsync(api + "things?$select=weight"), HttpStatusCode.BadRequest);
        clock.Advance(TableStore.SchemaMemory);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api + "things?$select=weight")).StatusCode);

        await otherEnvironments.AssignRoleAsync(environment, userId, null, default);
        Assert.Equal(HttpStatusCode.OK, (await zoe.GetAsync(api + "things")).StatusCode);
        clock.Advance(Causeway.Environments.EnvironmentService.ResolvedMemory);
        await ErrorAsync(await zoe.GetAsync(api + "things"), HttpStatusCode.NotFound);

        // The environment deleted through this server: the next request answers 404.
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api + "things")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/environments/{environment}")).StatusCode);
        Assert.Contains("memory", await ErrorAsync(await admin.GetAsync(api + "things"), HttpStatusCode.NotFound), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_ChangeSetsAreTransactions_GetsAnswerInOrder()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "batch");
        await CreateShopTablesAsync(admin, environment);
        const string api = "/environments/batch/api/data/v9.2/";
        var root = $"{host.BaseAddress}environments/batch/api/data/v9.2/";
        var category = await PostAsync(admin, api + "categories", new { name = "Tools" });

        static string Part(string method, string url, string? body = null, string? contentId = null) =>
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n" + (contentId is null ? "" : $"Content-ID: {contentId}\r\n") +
            $"\r\n{method} {url} HTTP/1.1\r\n" + (body is null ? "\r\n" : $"Content-Type: application/json\r\n\r\n{body}\r\n");
        static string ChangeSet(string boundary, params string[] parts) =>
            $"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + string.Concat(parts.Select(p => $"--{boundary}\r\n{p}")) + $"--{boundary}--\r\n";
        async Task<string> BatchAsync(params string[] groups)
        {
            var text = string.Concat(groups.Select(g => $"--batch_x\r\n{g}")) + "--batch_x--\r\n";
            using var content = new StringContent(text, Encoding.UTF8);
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/mixed; boundary=batch_x");
            var response = await admin.PostAsync(api + "$batch", content);
            var answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, answer);
            Assert.StartsWith("multipart/mixed", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
            return answer;
        }

        var good = await BatchAsync(
            ChangeSet("changeset_a",
                Part("POST", root + "products", $"{{\"name\":\"Saw\",\"category@odata.bind\":\"/categories({category})\"}}", "1"),
                Part("PATCH", "$1", "{\"price\": 12.5}", "2"),
                Part("POST", "products", "{\"name\":\"Drill\"}", "3")),
            Part("GET", api + "products?$select=name,price&$orderby=name"));
        Assert.Equal(3, good.Split("HTTP/1.1 204").Length - 1);
        Assert.Contains("\"Saw\"", good, StringComparison.Ordinal);
        Assert.Contains("12.5", good, StringComparison.Ordinal);

        var bad = await BatchAsync(
            ChangeSet("changeset_b",
                Part("POST", "products", "{\"name\":\"Hammer\"}", "1"),
                Part("POST", "products", "{\"name\":\"Wrench\",\"weight\":3}", "2")));
        Assert.Contains("HTTP/1.1 400", bad, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 204", bad, StringComparison.Ordinal);
        var names = (await admin.GetFromJsonAsync<JsonElement>(api + "products?$select=name&$orderby=name")).GetProperty("value").EnumerateArray().Select(r => r.GetProperty("name").GetString());
        Assert.Equal(["Drill", "Saw"], names);

        using var notMultipart = new StringContent("{}", Encoding.UTF8, "application/json");
        await ErrorAsync(await admin.PostAsync(api + "$batch", notMultipart), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task SelfLookup_ManagerChain_BindsAndExpandsBothWays()
    {
        await using var host = await StartAsync();
        using var admin = host.Client(host.AdminToken);
        var environment = await CreateEnvironmentAsync(admin, "people");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/v1/environments/{environment}/tables", new
        {
            logicalName = "employee",
            columns = new object[] { new { logicalName = "name", type = "text", required = true }, new { logicalName = "manager", type = "lookup", target = "employee" } },
        })).StatusCode);
        const string api = "/environments/people/api/data/v9.2";
        var boss = await PostAsync(admin, api + "/employees", new { name = "Ada" });
        await PostAsync(admin, api + "/employees", new Dictionary<string, object> { ["name"] = "Bob", ["manager@odata.bind"] = $"employees({boss})" });

        var team = await admin.GetFromJsonAsync<JsonElement>(api + $"/employees({boss})?$select=name&$expand=employee_manager($select=name)");
        Assert.Equal("Bob", team.GetProperty("employee_manager")[0].GetProperty("name").GetString());
        var bob = await admin.GetFromJsonAsync<JsonElement>(api + "/employees?$filter=manager/name eq 'Ada'&$expand=manager($select=name)");
        Assert.Equal("Ada", bob.GetProperty("value")[0].GetProperty("manager").GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(api + $"/employees({boss})")).StatusCode);
        var orphan = await admin.GetFromJsonAsync<JsonElement>(api + "/employees?$select=name,_manager_value");
        Assert.Equal(JsonValueKind.Null, orphan.GetProperty("value")[0].GetProperty("_manager_value").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(api)).StatusCode);
    }
}

public sealed class SqliteDataApiTests : DataApiTests
{
    protected override Task<IDictionary<string, string?>> ProviderSettingsAsync() =>
        Task.FromResult<IDictionary<string, string?>>(new Dictionary<string, string?>());
}

[Collection("postgres")]
public sealed class PostgresDataApiTests(PostgresServer postgres) : DataApiTests
{
    protected override async Task<IDictionary<string, string?>> ProviderSettingsAsync() => new Dictionary<string, string?>
    {
        ["Database:Provider"] = "postgresql",
        ["Database:ConnectionString"] = await postgres.CreateDatabaseAsync($"platform_{Guid.NewGuid():N}"),
        ["EnvironmentDatabases:Provider"] = "postgresql",
        ["EnvironmentDatabases:Server"] = postgres.AdminConnectionString,
    };
}
