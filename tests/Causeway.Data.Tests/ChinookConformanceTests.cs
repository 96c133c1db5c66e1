using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Causeway.Testing;

namespace Causeway.Data.Tests;

/// <summary>
/// OData queries over Chinook whose expected answers come from hand-written SQL or LINQ over rows loaded with plain
/// ADO.NET. The same suite runs on SQLite (PascalCase names) and PostgreSQL (snake_case names): identifiers in the
/// templates are written <c>{PascalCase}</c> and mapped per database.
/// </summary>
public abstract partial class ChinookConformanceTests
{
    private DataEngine? _engine;

    protected abstract SqlDialect Dialect { get; }

    protected abstract bool SnakeCase { get; }

    protected abstract Task<DbConnection> OpenAsync();

    [Fact]
    public async Task Filter_StringEquality_ReturnsMatchingRow()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Artist", "$filter={Name} eq 'AC/DC'");
        var expected = await Ids(db, "SELECT {ArtistId} FROM {Artist} WHERE {Name} = 'AC/DC'");
        Assert.Equal(expected, IdsOf(result, "ArtistId"));
        Assert.Single(expected);
    }

    [Fact]
    public async Task FilterOrderByTop_SeveralKeys_MatchesHandWrittenSql()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Track", "$filter={Milliseconds} gt 300000 and {GenreId} eq 1&$orderby={Milliseconds} desc,{Name}&$top=10&$select={TrackId},{Name}");
        var expected = await Ids(db, "SELECT {TrackId} FROM {Track} WHERE {Milliseconds} > 300000 AND {GenreId} = 1 ORDER BY {Milliseconds} DESC, {Name}, {TrackId} LIMIT 10");
        Assert.Equal(expected, IdsOf(result, "TrackId", sorted: false));
        Assert.Equal(10, expected.Count);
        var first = result.GetProperty("value")[0];
        Assert.False(first.TryGetProperty(N("Milliseconds"), out _), "$select must leave out unselected columns");
    }

    [Fact]
    public async Task Count_WithFilterAndTop_CountsAllMatches()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Track", "$filter=contains({Name},'Love')&$count=true&$top=5");
        var names = (await Rows(db, "SELECT {Name} FROM {Track}")).Select(r => (string)r[0]!).ToList();
        Assert.Equal(names.Count(n => n.Contains("Love", StringComparison.Ordinal)), result.GetProperty("@odata.count").GetInt64());
        Assert.Equal(5, result.GetProperty("value").GetArrayLength());
    }

    [Theory]
    [InlineData("startswith({FirstName},'J') or endswith({LastName},'son')")]
    [InlineData("tolower({Country}) eq 'usa' and length({FirstName}) gt 4")]
    [InlineData("indexof({Email},'@') gt 8")]
    [InlineData("substring({LastName},1,2) eq 'ar' or toupper(substring({FirstName},0,1)) eq 'M'")]
    [InlineData("concat(concat({FirstName},' '),{LastName}) eq 'Frank Harris'")]
    [InlineData("trim(concat({City},'  ')) eq 'Paris'")]
    [InlineData("{Company} eq null")]
    [InlineData("{Company} ne null and {State} ne 'CA'")]
    [InlineData("{Country} in ('Brazil','Canada','Norway')")]
    [InlineData("not ({Country} eq 'USA') and ({CustomerId} mod 3 eq 0 or {CustomerId} add 1 sub 2 mul 1 gt 50)")]
    public async Task Filter_StringAndNullFunctions_MatchLinq(string filter)
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Customer", "$filter=" + filter);
        var rows = (await Rows(db, "SELECT {CustomerId}, {FirstName}, {LastName}, {Country}, {Email}, {Company}, {State}, {City} FROM {Customer}"))
            .Select(r => new Customer(Convert.ToInt64(r[0], CultureInfo.InvariantCulture), (string)r[1]!, (string)r[2]!, (string?)r[3], (string)r[4]!, (string?)r[5], (string?)r[6], (string?)r[7]))
            .ToList();
        Func<Customer, bool> predicate = filter switch
        {
            _ when filter.StartsWith("startswith", StringComparison.Ordinal) => c => c.FirstName.StartsWith('J') || c.LastName.EndsWith("son", StringComparison.Ordinal),
            _ when filter.StartsWith("tolower", StringComparison.Ordinal) => c => c.Country?.ToLowerInvariant() == "usa" && c.FirstName.Length > 4,
            _ when filter.StartsWith("indexof", StringComparison.Ordinal) => c => c.Email.IndexOf('@', StringComparison.Ordinal) > 8,
            _ when filter.StartsWith("substring", StringComparison.Ordinal) => c => (c.LastName.Length >= 3 && c.LastName.Substring(1, 2) == "ar") || c.FirstName[..1].ToUpperInvariant() == "M",
            _ when filter.StartsWith("concat", StringComparison.Ordinal) => c => c.FirstName + " " + c.LastName == "Frank Harris",
            _ when filter.StartsWith("trim", StringComparison.Ordinal) => c => c.City?.Trim() == "Paris",
            _ when filter.EndsWith("eq null", StringComparison.Ordinal) => c => c.Company is null,
            _ when filter.StartsWith("{Company} ne", StringComparison.Ordinal) => c => c.Company is not null && c.State != "CA",
            _ when filter.Contains(" in ", StringComparison.Ordinal) => c => c.Country is "Brazil" or "Canada" or "Norway",
            _ => c => c.Country != "USA" && (c.Id % 3 == 0 || c.Id + 1 - 2 > 50),
        };
        var expected = rows.Where(predicate).Select(c => c.Id).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "CustomerId"));
    }

    [Theory]
    [InlineData("year({InvoiceDate}) eq 2023 and month({InvoiceDate}) ge 6")]
    [InlineData("day({InvoiceDate}) eq 11 and hour({InvoiceDate}) eq 0 and minute({InvoiceDate}) eq 0 and second({InvoiceDate}) eq 0")]
    [InlineData("date({InvoiceDate}) eq 2022-03-12")]
    [InlineData("{InvoiceDate} ge 2024-06-01T00:00:00Z and {InvoiceDate} lt 2024-07-01T00:00:00Z")]
    [InlineData("floor({Total}) eq 13 or ceiling({Total}) eq 2 or round({Total}) eq 24")]
    public async Task Filter_DateAndMathFunctions_MatchLinq(string filter)
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Invoice", "$filter=" + filter);
        var invoices = new List<(long Id, DateTime Date, decimal Total)>();
        await using (var command = db.CreateCommand())
        {
            command.CommandText = Map("SELECT {InvoiceId}, {InvoiceDate}, {Total} FROM {Invoice}");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                invoices.Add((Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetDateTime(1), Convert.ToDecimal(reader.GetValue(2), CultureInfo.InvariantCulture)));
            }
        }

        Func<(long Id, DateTime Date, decimal Total), bool> predicate = filter switch
        {
            _ when filter.StartsWith("year", StringComparison.Ordinal) => i => i.Date.Year == 2023 && i.Date.Month >= 6,
            _ when filter.StartsWith("day", StringComparison.Ordinal) => i => i.Date.Day == 11 && i.Date.TimeOfDay == TimeSpan.Zero,
            _ when filter.StartsWith("date", StringComparison.Ordinal) => i => i.Date.Date == new DateTime(2022, 3, 12),
            _ when filter.StartsWith("{InvoiceDate}", StringComparison.Ordinal) => i => i.Date >= new DateTime(2024, 6, 1) && i.Date < new DateTime(2024, 7, 1),
            _ => i => Math.Floor(i.Total) == 13 || Math.Ceiling(i.Total) == 2 || Math.Round(i.Total, MidpointRounding.AwayFromZero) == 24,
        };
        var expected = invoices.Where(predicate).Select(i => i.Id).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "InvoiceId"));
        var date = result.GetProperty("value")[0].GetProperty(N("InvoiceDate")).GetString()!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", date);
    }

    [Fact]
    public async Task Filter_Arithmetic_OnDecimalColumns_MatchesLinq()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "InvoiceLine", "$filter={UnitPrice} mul {Quantity} gt 1.5 and {InvoiceId} le 100");
        var expected = (await Rows(db, "SELECT {InvoiceLineId}, {UnitPrice}, {Quantity}, {InvoiceId} FROM {InvoiceLine}"))
            .Where(r => Convert.ToDecimal(r[1], CultureInfo.InvariantCulture) * Convert.ToDecimal(r[2], CultureInfo.InvariantCulture) > 1.5m && Convert.ToInt64(r[3], CultureInfo.InvariantCulture) <= 100)
            .Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "InvoiceLineId"));
        Assert.Equal(JsonValueKind.Number, result.GetProperty("value")[0].GetProperty(N("UnitPrice")).ValueKind);
    }

    [Fact]
    public async Task ExpandSingleValued_ByKey_ReturnsRelatedEntity()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Album", $"$expand={N("Artist")}($select={N("Name")})", key: "1");
        var expected = await Rows(db, "SELECT r.{Name} FROM {Album} a JOIN {Artist} r ON r.{ArtistId} = a.{ArtistId} WHERE a.{AlbumId} = 1");
        Assert.Equal((string)expected[0][0]!, result.GetProperty(N("Artist")).GetProperty(N("Name")).GetString());
        Assert.EndsWith("/$entity", result.GetProperty("@odata.context").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpandCollection_NestedOptions_MatchLinq()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Album", "$filter={AlbumId} le 6&$expand={Track}($select={Name};$filter={Milliseconds} gt 200000;$orderby={Milliseconds} desc;$top=3)");
        var tracks = (await Rows(db, "SELECT {AlbumId}, {Name}, {Milliseconds}, {TrackId} FROM {Track}"))
            .Select(r => (Album: Convert.ToInt64(r[0], CultureInfo.InvariantCulture), Name: (string)r[1]!, Ms: Convert.ToInt64(r[2], CultureInfo.InvariantCulture), Id: Convert.ToInt64(r[3], CultureInfo.InvariantCulture)))
            .ToList();
        var albums = result.GetProperty("value").EnumerateArray().ToList();
        Assert.Equal(6, albums.Count);
        foreach (var album in albums)
        {
            var id = album.GetProperty(N("AlbumId")).GetInt64();
            var expected = tracks.Where(t => t.Album == id && t.Ms > 200000).OrderByDescending(t => t.Ms).ThenBy(t => t.Id).Take(3).Select(t => t.Name).ToList();
            var actual = album.GetProperty(N("Track")).EnumerateArray().Select(t => t.GetProperty(N("Name")).GetString()!).ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task ExpandCollection_FromOneSideTwoLevels_MatchesSql()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Artist", "$filter={ArtistId} eq 1&$expand={Album}($expand={Track}($select={TrackId}))");
        var expected = await Ids(db, "SELECT t.{TrackId} FROM {Track} t JOIN {Album} a ON a.{AlbumId} = t.{AlbumId} WHERE a.{ArtistId} = 1 ORDER BY a.{AlbumId}, t.{TrackId}");
        var actual = result.GetProperty("value")[0].GetProperty(N("Album")).EnumerateArray()
            .SelectMany(a => a.GetProperty(N("Track")).EnumerateArray().Select(t => t.GetProperty(N("TrackId")).GetInt64())).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Filter_AnyOverCollection_MatchesSql()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Artist", "$filter={Album}/any(a: contains(a/{Title},'Greatest'))");
        var expected = await Ids(db, "SELECT DISTINCT r.{ArtistId} FROM {Artist} r JOIN {Album} a ON a.{ArtistId} = r.{ArtistId} WHERE a.{Title} LIKE '%Greatest%' ORDER BY r.{ArtistId}");
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "ArtistId"));
    }

    [Fact]
    public async Task Filter_AllOverCollection_MatchesSql()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Album", "$filter={Track}/all(t: t/{Milliseconds} gt 300000)");
        var expected = await Ids(db, "SELECT a.{AlbumId} FROM {Album} a WHERE NOT EXISTS (SELECT 1 FROM {Track} t WHERE t.{AlbumId} = a.{AlbumId} AND t.{Milliseconds} <= 300000) ORDER BY a.{AlbumId}");
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "AlbumId"));
    }

    [Fact]
    public async Task Filter_PathThroughSingleNavigations_MatchesSql()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Track", "$filter={Album}/{Artist}/{Name} eq 'Queen'&$select={TrackId}");
        var expected = await Ids(db, "SELECT t.{TrackId} FROM {Track} t JOIN {Album} a ON a.{AlbumId} = t.{AlbumId} JOIN {Artist} r ON r.{ArtistId} = a.{ArtistId} WHERE r.{Name} = 'Queen' ORDER BY t.{TrackId}");
        Assert.NotEmpty(expected);
        Assert.Equal(expected, IdsOf(result, "TrackId"));
    }

    [Fact]
    public async Task Filter_NotEqualOnNullableColumn_IncludesNullsLikeOData()
    {
        await using var db = await OpenAsync();
        var result = await Query(db, "Track", "$filter={Composer} ne 'AC/DC'&$count=true&$top=0");
        var expected = await Rows(db, "SELECT COUNT(*) FROM {Track} WHERE {Composer} IS NULL OR {Composer} <> 'AC/DC'");
        Assert.Equal(Convert.ToInt64(expected[0][0], CultureInfo.InvariantCulture), result.GetProperty("@odata.count").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SkipToken_PagingThroughAllRowsOnNullableOrder_VisitsEveryRowOnceInOrder(bool descending)
    {
        await using var db = await OpenAsync();
        var all = (await Rows(db, "SELECT {TrackId}, {Composer}, {Name} FROM {Track}"))
            .Select(r => (Id: Convert.ToInt64(r[0], CultureInfo.InvariantCulture), Composer: (string?)r[1], Name: (string)r[2]!)).ToList();

        // OData: null sorts before every value ascending, after every value descending.
        var byComposer = descending
            ? all.OrderBy(t => t.Composer is null ? 1 : 0).ThenByDescending(t => t.Composer, StringComparer.Ordinal)
            : all.OrderBy(t => t.Composer is null ? 0 : 1).ThenBy(t => t.Composer, StringComparer.Ordinal);
        var expected = byComposer.ThenByDescending(t => t.Name, StringComparer.Ordinal).ThenBy(t => t.Id).Select(t => t.Id).ToList();
        var limits = new QueryLimits { PageSize = 400, AllowSkip = false };
        var query = $"$orderby={{Composer}}{(descending ? " desc" : "")},{{Name}} desc&$select={{TrackId}}&$count=true";
        var seen = new List<long>();
        var pages = 0;
        while (true)
        {
            var page = await Query(db, "Track", query, limits);
            pages++;
            Assert.Equal(all.Count, page.GetProperty("@odata.count").GetInt64());
            seen.AddRange(IdsOf(page, "TrackId", sorted: false));
            if (!page.TryGetProperty("@odata.nextLink", out var next))
            {
                break;
            }

            query = new Uri(next.GetString()!).Query;
            Assert.True(pages < 20, "paging did not end");
        }

        Assert.Equal(expected, seen);
        Assert.Equal((all.Count + 399) / 400, pages);
    }

    [Fact]
    public async Task SkipToken_DateOrderWithTopBeyondPage_StopsAtTopInOrder()
    {
        await using var db = await OpenAsync();
        var expected = await Ids(db, "SELECT {InvoiceId} FROM {Invoice} WHERE {Total} > 5 ORDER BY {InvoiceDate} DESC, {InvoiceId} LIMIT 130");
        var limits = new QueryLimits { PageSize = 50 };
        var query = "$filter={Total} gt 5&$orderby={InvoiceDate} desc&$top=130&$select={InvoiceId}";
        var seen = new List<long>();
        for (var pages = 1; ; pages++)
        {
            var page = await Query(db, "Invoice", query, limits);
            seen.AddRange(IdsOf(page, "InvoiceId", sorted: false));
            if (!page.TryGetProperty("@odata.nextLink", out var next))
            {
                Assert.Equal(3, pages);
                break;
            }

            query = new Uri(next.GetString()!).Query;
        }

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task SkipToken_TamperedToken_IsCleanBadRequest()
    {
        await using var db = await OpenAsync();
        var page = await Query(db, "Track", "$select={TrackId}", new QueryLimits { PageSize = 10 });
        var next = new Uri(page.GetProperty("@odata.nextLink").GetString()!).Query;
        var tampered = next.Replace("$skiptoken=", "$skiptoken=x", StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<DataRequestException>(() => Query(db, "Track", tampered));
        Assert.Equal(400, ex.StatusCode);
        var otherQuery = next.Replace("$select=", "$orderby=" + N("Name") + "&$select=", StringComparison.Ordinal);
        Assert.Equal(400, (await Assert.ThrowsAsync<DataRequestException>(() => Query(db, "Track", otherQuery))).StatusCode);
    }

    [Fact]
    public async Task Key_Missing_Throws404()
    {
        await using var db = await OpenAsync();
        var ex = await Assert.ThrowsAsync<DataRequestException>(() => Query(db, "Album", string.Empty, key: "999999"));
        Assert.Equal(404, ex.StatusCode);
    }

    protected string N(string pascal) => SnakeCase ? SnakeCaseRegex().Replace(pascal, "$1_$2").ToLowerInvariant() : pascal;

    private string Map(string template) => BraceRegex().Replace(template, m => N(m.Groups[1].Value));

    private async Task<JsonElement> Query(DbConnection db, string set, string query, QueryLimits? limits = null, string? key = null)
    {
        _engine ??= new DataEngine(await SchemaReader.ReadAsync(db, Dialect), Dialect);
        return await ChinookDatabases.QueryAsync(_engine, db, N(set), Map(query), limits, key);
    }

    private Task<List<object?[]>> Rows(DbConnection db, string sql) => ChinookDatabases.RowsAsync(db, Map(sql));

    private async Task<List<long>> Ids(DbConnection db, string sql) =>
        (await Rows(db, sql)).Select(r => Convert.ToInt64(r[0], CultureInfo.InvariantCulture)).ToList();

    private List<long> IdsOf(JsonElement result, string key, bool sorted = true)
    {
        var ids = result.GetProperty("value").EnumerateArray().Select(e => e.GetProperty(N(key)).GetInt64()).ToList();
        return sorted ? [.. ids.Order()] : ids;
    }

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex BraceRegex();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex SnakeCaseRegex();

    private sealed record Customer(long Id, string FirstName, string LastName, string? Country, string Email, string? Company, string? State, string? City);
}

public sealed class SqliteChinookConformanceTests : ChinookConformanceTests
{
    protected override SqlDialect Dialect => SqlDialect.Sqlite;

    protected override bool SnakeCase => false;

    protected override Task<DbConnection> OpenAsync() => Task.FromResult(ChinookDatabases.OpenSqlite());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresChinookConformanceTests(PostgresServer server) : ChinookConformanceTests
{
    protected override SqlDialect Dialect => SqlDialect.PostgreSql;

    protected override bool SnakeCase => true;

    protected override Task<DbConnection> OpenAsync() => ChinookDatabases.OpenPostgresAsync(server);
}
