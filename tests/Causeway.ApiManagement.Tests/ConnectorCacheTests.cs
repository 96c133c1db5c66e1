using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Causeway.Platform.Database;
using Causeway.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.ApiManagement.Tests;

/// <summary>The parsed-connector memory: kept while its row is unchanged, read again when another node changed it.</summary>
public sealed class ConnectorCacheTests
{
    private const string Definition = """
        {
          "swagger": "2.0", "info": { "title": "Cached", "version": "1.0" }, "host": "cached.example.test", "basePath": "/", "schemes": ["https"],
          "paths": { "/items": { "get": { "operationId": "ListItems", "responses": { "200": { "description": "ok" } } } } }
        }
        """;

    [Fact]
    public async Task FindAsync_AfterTheCacheTime_SameDefinitionWhileTheRowIsUnchangedThenTheChangedOneThenNone()
    {
        var clock = new SteppingClock();
        await using var host = await ServerHost.StartAsync(time: clock);
        using var admin = host.Client(host.AdminToken);
        var tenant = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("tenantId").GetGuid();
        var imported = await admin.PostAsJsonAsync("/api/v1/connectors", new { apiDefinition = JsonNode.Parse(Definition), apiProperties = new { properties = new { publisher = "Contoso" } } });
        imported.EnsureSuccessStatusCode();
        var name = (await imported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
        var store = host.Services.GetRequiredService<ConnectorStore>();
        var database = host.Services.GetRequiredService<SqlDatabase>();

        var first = await store.FindAsync(tenant, name, default);
        clock.Advance(TimeSpan.FromSeconds(31));
        var unchanged = await store.FindAsync(tenant, name, default);

        // Another node deletes the connector and imports one of the same name: a new row, a new created_at.
        await ExecuteAsync(database, "UPDATE apim_connectors SET created_at = @c, api_definition = replace(api_definition, 'ListItems', 'ListThings') WHERE tenant_id = @t AND name = @n",
            ("c", Sql.Timestamp(clock.GetUtcNow().AddMinutes(1))), ("t", tenant.ToString()), ("n", name));
        var stillRemembered = await store.FindAsync(tenant, name, default);
        clock.Advance(TimeSpan.FromSeconds(31));
        var changed = await store.FindAsync(tenant, name, default);

        await ExecuteAsync(database, "DELETE FROM apim_connectors WHERE tenant_id = @t AND name = @n", ("t", tenant.ToString()), ("n", name));
        clock.Advance(TimeSpan.FromSeconds(31));
        var deleted = await store.FindAsync(tenant, name, default);

        Assert.NotNull(first);
        Assert.Same(first, unchanged);
        Assert.Same(first, stillRemembered);
        Assert.NotSame(first, changed);
        Assert.Equal("ListThings", Assert.Single(changed!.Operations).OperationId);
        Assert.Null(deleted);
    }

    private static async Task ExecuteAsync(SqlDatabase database, string sql, params (string, object?)[] parameters)
    {
        await using var connection = await database.OpenAsync();
        await Sql.ExecuteAsync(connection, null, sql, default, parameters);
    }

    /// <summary>A clock whose wall time and timestamps both move only by hand.</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => _start + TimeSpan.FromTicks(Interlocked.Read(ref _ticks) - TimeSpan.TicksPerDay);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
