using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Causeway.Testing;

namespace Causeway.EndToEnd.Tests;

public sealed class TablesEndToEndTests
{
    [Fact]
    public async Task Cli_MakerCreatesTables_RowsQueriedThroughDataApiWithFilterExpandAndPaging()
    {
        using var folder = new TempFolder("causeway-e2e");
        var data = folder.Combine("data");
        var profile = folder.Combine("profile.json");
        await using var server = await ServerProcess.StartAsync(data);
        var token = await server.LoginAsync(profile);
        var env = await Programs.CliAsync(profile, "env", "create", "--name", "shop", "--geography", "europe", "--type", "sandbox", "--json");
        Assert.True(env.Code == 0, env.Error);

        var categoryFile = folder.Combine("category.json");
        await File.WriteAllTextAsync(categoryFile, """{"logicalName":"category","displayName":"Category","columns":[{"logicalName":"name","type":"text","maxLength":50,"required":true}]}""");
        var category = await Programs.CliAsync(profile, "table", "create", "--environment", "shop", "--file", categoryFile, "--json");
        Assert.True(category.Code == 0, category.Error);
        Assert.Equal("categories", JsonDocument.Parse(category.Output).RootElement.GetProperty("entitySetName").GetString());
        var product = await Programs.CliAsync(profile, "table", "create", "--environment", "shop", "--name", "product", "--display-name", "Product",
            "--column", "name:text:maxLength=100,required", "--column", "price:decimal", "--column", "category:lookup:target=category");
        Assert.True(product.Code == 0, product.Error);
        Assert.Contains("products", product.Output, StringComparison.Ordinal);
        var added = await Programs.CliAsync(profile, "table", "column", "add", "product", "--environment", "shop", "--name", "instock", "--type", "boolean", "--default", "true");
        Assert.True(added.Code == 0, added.Error);
        var list = await Programs.CliAsync(profile, "table", "list", "--environment", "shop", "--json");
        Assert.True(list.Code == 0, list.Error);
        Assert.Equal(["category", "product"], JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Select(t => t.GetProperty("logicalName").GetString()).Order());
        var show = await Programs.CliAsync(profile, "table", "show", "product", "--environment", "shop");
        Assert.True(show.Code == 0, show.Error);
        Assert.Contains("instock", show.Output, StringComparison.Ordinal);
        var bad = await Programs.CliAsync(profile, "table", "create", "--environment", "shop", "--name", "Bad Name");
        Assert.Equal(1, bad.Code);
        Assert.Contains("logicalName", bad.Error, StringComparison.Ordinal);
        Assert.Single(bad.Error.Trim().Split('\n'));

        using var client = Client(server.Url, token, Path.Combine(data, "certificate.pem"));
        const string api = "environments/shop/api/data/v9.2/";
        var tools = await InsertAsync(client, api + "categories", new { name = "Tools" });
        var toys = await InsertAsync(client, api + "categories", new { name = "Toys" });
        for (var i = 1; i <= 7; i++)
        {
            await InsertAsync(client, api + "products", new Dictionary<string, object>
            {
                ["name"] = $"Item {i}",
                ["price"] = i * 3,
                ["category@odata.bind"] = $"/categories({(i % 2 == 0 ? toys : tools)})",
            });
        }

        var names = new List<string>();
        string? url = api + "products?$filter=price ge 6 and category/name eq 'Tools'&$orderby=price&$select=name,price,instock&$expand=category($select=name)";
        while (url is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.TryAddWithoutValidation("Prefer", "odata.maxpagesize=2");
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>();
            foreach (var row in page.GetProperty("value").EnumerateArray())
            {
                Assert.Equal("Tools", row.GetProperty("category").GetProperty("name").GetString());
                Assert.True(row.GetProperty("instock").GetBoolean());
                names.Add(row.GetProperty("name").GetString()!);
            }

            url = page.TryGetProperty("@odata.nextLink", out var next) ? next.GetString() : null;
        }

        Assert.Equal(["Item 3", "Item 5", "Item 7"], names);

        var deleted = await Programs.CliAsync(profile, "table", "delete", "product", "--environment", "shop");
        Assert.True(deleted.Code == 0, deleted.Error);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(api + "products")).StatusCode);
        Assert.DoesNotContain(token, server.Log, StringComparison.Ordinal);
    }

    private static HttpClient Client(string url, string token, string certificatePem)
    {
        using var trusted = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePem));
        var thumbprint = trusted.Thumbprint;
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint };
        var client = new HttpClient(handler) { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<Guid> InsertAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var entityId = response.Headers.GetValues("OData-EntityId").Single();
        return Guid.Parse(entityId[(entityId.LastIndexOf('(') + 1)..^1]);
    }
}
