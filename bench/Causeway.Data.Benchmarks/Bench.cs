using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Causeway.DataApi;
using Causeway.Environments;
using Causeway.Platform.Database;
using Causeway.Platform.Tenancy;
using Causeway.Security;
using Causeway.Server;
using Causeway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Causeway.Data.Benchmarks;

/// <summary>
/// One provider's setup: the real server (Kestrel, TLS, its own certificate) with an environment "bench", and the
/// floor: a bare Kestrel app with TLS in the same process that opens a connection to the same environment database,
/// runs hand-written SQL through ADO.NET and writes the same JSON with Utf8JsonWriter.
/// </summary>
internal sealed class Bench : IAsyncDisposable
{
    private readonly DirectoryInfo _folder;
    private readonly WebApplication _server;
    private readonly WebApplication _floor;
    private readonly CertificateTrust _serverTrust;
    private readonly CertificateTrust _floorTrust;
    private readonly string _token;
    private readonly SqlDatabase _database;
    private readonly Uri _serverAddress;
    private readonly Uri _floorAddress;
    private readonly bool _pg;
    private readonly EnvironmentRecord _environment;

    private Bench(DirectoryInfo folder, WebApplication server, WebApplication floor, string token, SqlDatabase database, EnvironmentRecord environment, bool pg)
    {
        _environment = environment;
        _folder = folder;
        _server = server;
        _floor = floor;
        _token = token;
        _database = database;
        _pg = pg;
        _serverAddress = new Uri(CausewayServer.ReadyUrl(server));
        _serverTrust = CertificateTrust.FromFile(Path.Combine(folder.FullName, "certificate.pem"));
        _floorTrust = CertificateTrust.FromFile(Path.Combine(folder.FullName, "floor.pem"));
        var address = floor.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _floorAddress = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority).Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
    }

    public string Name => _pg ? "PostgreSQL" : "SQLite";

    public string FloorPageSql => PageSql(_pg);

    public static async Task<Bench> StartAsync(PostgresServer? postgres)
    {
        var folder = Directory.CreateTempSubdirectory("causeway-databench");
        var settings = new Dictionary<string, string?> { ["Server:RelayPort"] = "0" };
        if (postgres is not null)
        {
            // Pooled connections, as a deployment would configure them (the test helper's strings turn pooling off).
            var pooled = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Pooling = true, MaxPoolSize = 100 }.ConnectionString;
            var platform = await postgres.CreateDatabaseAsync($"platform_{Guid.NewGuid():N}");
            settings["Database:Provider"] = "postgresql";
            settings["Database:ConnectionString"] = new NpgsqlConnectionStringBuilder(platform) { Pooling = true }.ConnectionString;
            settings["EnvironmentDatabases:Provider"] = "postgresql";
            settings["EnvironmentDatabases:Server"] = pooled;
        }

        var server = await CausewayServer.BuildAsync(["--data-dir", folder.FullName, "--port", "0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await server.StartAsync();
        var token = (await File.ReadAllTextAsync(Path.Combine(folder.FullName, "admin-token"))).Trim();

        // The environment and its tables through the real Tables API.
        var trust = CertificateTrust.FromFile(Path.Combine(folder.FullName, "certificate.pem"));
        using (var admin = new HttpClient(trust.CreateHandler()) { BaseAddress = new Uri(CausewayServer.ReadyUrl(server)) })
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var created = await admin.PostAsJsonAsync("/api/v1/environments", new { name = "bench", geography = "europe", type = "production" });
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            foreach (var (logical, display) in new[] { ("product", "Product"), ("item", "Item") })
            {
                var table = await admin.PostAsJsonAsync($"/api/v1/environments/{id}/tables", new
                {
                    logicalName = logical,
                    displayName = display,
                    columns = new object[]
                    {
                        new { logicalName = "name", type = "text", maxLength = 100, required = true },
                        new { logicalName = "price", type = "decimal" },
                    },
                });
                if (table.StatusCode != HttpStatusCode.Created)
                {
                    throw new InvalidOperationException($"Creating table {logical}: {(int)table.StatusCode} {await table.Content.ReadAsStringAsync()}");
                }
            }
        }

        var (caller, _) = await server.Services.GetRequiredService<TenantStore>().AuthenticateAsync(token, CancellationToken.None);
        var environment = await server.Services.GetRequiredService<EnvironmentService>().FindByNameAsync(caller!.TenantId, "bench", CancellationToken.None)
            ?? throw new InvalidOperationException("The environment was not created.");
        var database = server.Services.GetRequiredService<EnvironmentDatabases>().Open(environment.DatabaseLocation);

        using var certificate = CertificateFactory.CreateSelfSigned("localhost");
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, "floor.pem"), certificate.ExportCertificatePem());
        var floor = await StartFloorAsync(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null), database, postgres is not null);
        return new Bench(folder, server, floor, token, database, environment, postgres is not null);
    }

    /// <summary>A client of the real server with the administrator's bearer token.</summary>
    public HttpClient ServerClient() => Client(_serverTrust, _serverAddress, _token);

    /// <summary>A client of the floor sending the same bearer header (the floor ignores it).</summary>
    public HttpClient FloorClient() => Client(_floorTrust, _floorAddress, _token);

    /// <summary>The SQL the server's engine runs for a Data API URL (path and query), from the environment's own engine.</summary>
    public async Task<string> PlanAsync(string url)
    {
        var uri = new Uri(_serverAddress, url);
        var options = uri.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1]));
        var snapshot = await _server.Services.GetRequiredService<TableStore>().GetAsync(_environment, CancellationToken.None);
        return snapshot.Engine.ParseQuery("products", null, options, new QueryLimits { AllowSkip = false }).Sql;
    }

    /// <summary>
    /// Where a Data API GET by key spends its time: each step the server takes, timed alone on one thread (mean of
    /// <paramref name="iterations"/> calls, wall clock), next to the floor's connection open and query.
    /// </summary>
    public async Task<IReadOnlyList<string>> BreakdownAsync(Guid key, int iterations)
    {
        var services = _server.Services;
        var environments = services.GetRequiredService<EnvironmentService>();
        var tables = services.GetRequiredService<TableStore>();
        var tenants = services.GetRequiredService<TenantStore>();
        var (caller, _) = await tenants.AuthenticateAsync(_token, CancellationToken.None);
        var snapshot = await tables.GetAsync(_environment, CancellationToken.None);
        var serviceRoot = new Uri(_serverAddress, "/environments/bench/api/data/v9.2/");
        var options = new Dictionary<string, string> { ["$select"] = "name,price,productid" };
        var limits = new QueryLimits { AllowSkip = false, PageSize = 5000, MaxPageSize = 5000 };
        var keyText = key.ToString("D");
        var connectionString = _database.ConnectionString;
        var steps = new (string Name, Func<Task> Step)[]
        {
            ("server: authenticate bearer token", async () => await tenants.AuthenticateAsync(_token, CancellationToken.None)),
            ("server: find environment by name (platform db)", async () => await environments.FindByNameAsync(caller!.TenantId, "bench", CancellationToken.None)),
            ("server: resolve environment + role (remembered)", async () => await environments.ResolveAsync(caller!, "bench", CancellationToken.None)),
            ("server: table snapshot (remembered)", async () => await tables.GetAsync(_environment, CancellationToken.None)),
            ("server: open env db connection (+PRAGMA on SQLite)", async () =>
            {
                await using var c = await _database.OpenAsync();
            }),
            ("server: engine parse (cached) + execute by key", async () =>
            {
                await using var c = await _database.OpenAsync();
                using var buffer = new MemoryStream();
                var plan = snapshot.Engine.ParseQuery("products", keyText, options, limits);
                await snapshot.Engine.ExecuteQueryAsync(c, plan, buffer, serviceRoot);
            }),
            ("floor: open connection", async () =>
            {
                await using DbConnection c = _pg ? new NpgsqlConnection(connectionString) : new SqliteConnection(connectionString);
                await c.OpenAsync();
            }),
            ("floor: open + by-key SQL + Utf8JsonWriter", async () =>
            {
                await using DbConnection c = _pg ? new NpgsqlConnection(connectionString) : new SqliteConnection(connectionString);
                await c.OpenAsync();
                await using var command = c.CreateCommand();
                command.CommandText = ByKeySql;
                Add(command, "k", _pg ? key : keyText);
                await using var reader = await command.ExecuteReaderAsync();
                using var buffer = new MemoryStream();
                await using var writer = new Utf8JsonWriter(buffer);
                if (await reader.ReadAsync())
                {
                    writer.WriteStartObject();
                    WriteRow(writer, reader, _pg);
                    writer.WriteEndObject();
                }
            }),
        };
        var lines = new List<string>();
        foreach (var (name, step) in steps)
        {
            for (var i = 0; i < iterations / 10; i++)
            {
                await step();
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                await step();
            }

            lines.Add($"  breakdown {Name,-10} {name,-52} {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds / iterations,8:N1} µs");
        }

        return lines;
    }

    /// <summary>Loads rows (name, price) in one transaction with a prepared insert (SQLite) or 1000-row multi-row INSERTs (PostgreSQL); returns the keys.</summary>
    public async Task<Guid[]> LoadAsync(string table, int rows, bool createIndex)
    {
        var random = new Random(42);
        var keys = new Guid[rows];
        await using var connection = await _database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (!_pg)
        {
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO \"{table}\" (\"{table}id\", \"name\", \"price\") VALUES ($k, $n, $p)";
            var k = insert.CreateParameter();
            k.ParameterName = "$k";
            var n = insert.CreateParameter();
            n.ParameterName = "$n";
            var p = insert.CreateParameter();
            p.ParameterName = "$p";
            insert.Parameters.Add(k);
            insert.Parameters.Add(n);
            insert.Parameters.Add(p);
            await insert.PrepareAsync();
            for (var i = 0; i < rows; i++)
            {
                keys[i] = Guid.NewGuid();
                k.Value = keys[i].ToString("D");
                n.Value = $"Product {i:D7}";
                p.Value = Price(random);
                await insert.ExecuteNonQueryAsync();
            }
        }
        else
        {
            const int Batch = 1000;
            for (var start = 0; start < rows; start += Batch)
            {
                var count = Math.Min(Batch, rows - start);
                await using var insert = (NpgsqlCommand)connection.CreateCommand();
                insert.Transaction = (NpgsqlTransaction)transaction;
                var values = new System.Text.StringBuilder();
                for (var j = 0; j < count; j++)
                {
                    var i = start + j;
                    keys[i] = Guid.NewGuid();
                    values.Append(j == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(${(3 * j) + 1},${(3 * j) + 2},${(3 * j) + 3})");
                    insert.Parameters.Add(new NpgsqlParameter { Value = keys[i] });
                    insert.Parameters.Add(new NpgsqlParameter { Value = $"Product {i:D7}" });
                    insert.Parameters.Add(new NpgsqlParameter { Value = Price(random) });
                }

                insert.CommandText = $"INSERT INTO \"{table}\" (\"{table}id\", \"name\", \"price\") VALUES {values}";
                await insert.ExecuteNonQueryAsync();
            }
        }

        if (createIndex)
        {
            // The Tables API creates no index on ordinary columns; the filtered page needs one on both sides equally.
            await using var index = connection.CreateCommand();
            index.Transaction = transaction;
            index.CommandText = $"CREATE INDEX \"bench_{table}_price\" ON \"{table}\" (\"price\", \"{table}id\")";
            await index.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        await using var analyze = connection.CreateCommand();
        analyze.CommandText = "ANALYZE";
        await analyze.ExecuteNonQueryAsync();
        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        await _floor.StopAsync();
        await _floor.DisposeAsync();
        await _server.StopAsync();
        await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        NpgsqlConnection.ClearAllPools();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static decimal Price(Random random) => Math.Round((decimal)(random.NextDouble() * 1000), 2);

    private static HttpClient Client(CertificateTrust trust, Uri address, string token)
    {
        var client = new HttpClient(trust.CreateHandler()) { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        return client;
    }

    private const string ByKeySql = "SELECT \"productid\", \"name\", \"price\", \"versionnumber\" FROM \"product\" WHERE \"productid\" = @k";

    private static string PageSql(bool pg) => pg
        ? "SELECT \"productid\", \"name\", \"price\", \"versionnumber\" FROM \"product\" WHERE \"price\" >= @low AND \"price\" < @high ORDER BY \"price\" NULLS FIRST, \"productid\" LIMIT 50"
        : "SELECT \"productid\", \"name\", \"price\", \"versionnumber\" FROM \"product\" WHERE \"price\" >= @low AND \"price\" < @high ORDER BY \"price\", \"productid\" LIMIT 50";

    private static async Task<WebApplication> StartFloorAsync(X509Certificate2 certificate, SqlDatabase database, bool pg)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        var connectionString = database.ConnectionString;
        DbConnection Connection() => pg ? new NpgsqlConnection(connectionString) : new SqliteConnection(connectionString);
        var pageSql = PageSql(pg);

        app.MapGet("/floor/products/{id}", async (HttpContext context, string id) =>
        {
            await using var connection = Connection();
            await connection.OpenAsync(context.RequestAborted);
            await using var command = connection.CreateCommand();
            command.CommandText = ByKeySql;
            Add(command, "k", pg ? Guid.Parse(id) : Guid.Parse(id).ToString("D"));
            await using var reader = await command.ExecuteReaderAsync(context.RequestAborted);
            if (!await reader.ReadAsync(context.RequestAborted))
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = "application/json; odata.metadata=minimal";
            await using var writer = new Utf8JsonWriter(context.Response.Body);
            writer.WriteStartObject();
            writer.WriteString("@odata.context", $"https://{context.Request.Host}/environments/bench/api/data/v9.2/$metadata#products(name,price,productid)/$entity");
            WriteRow(writer, reader, pg);
            writer.WriteEndObject();
            await writer.FlushAsync(context.RequestAborted);
        });

        app.MapGet("/floor/products", async (HttpContext context) =>
        {
            var low = decimal.Parse(context.Request.Query["low"].ToString(), CultureInfo.InvariantCulture);
            var high = decimal.Parse(context.Request.Query["high"].ToString(), CultureInfo.InvariantCulture);
            await using var connection = Connection();
            await connection.OpenAsync(context.RequestAborted);
            await using var command = connection.CreateCommand();
            command.CommandText = pageSql;
            Add(command, "low", low);
            Add(command, "high", high);
            await using var reader = await command.ExecuteReaderAsync(context.RequestAborted);
            context.Response.ContentType = "application/json; odata.metadata=minimal";
            await using var writer = new Utf8JsonWriter(context.Response.Body);
            writer.WriteStartObject();
            writer.WriteString("@odata.context", $"https://{context.Request.Host}/environments/bench/api/data/v9.2/$metadata#products(name,price,productid)");
            writer.WriteStartArray("value");
            while (await reader.ReadAsync(context.RequestAborted))
            {
                writer.WriteStartObject();
                WriteRow(writer, reader, pg);
                writer.WriteEndObject();
                if (writer.BytesPending > 16_384)
                {
                    await writer.FlushAsync(context.RequestAborted);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync(context.RequestAborted);
        });

        await app.StartAsync();
        return app;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static void WriteRow(Utf8JsonWriter writer, DbDataReader reader, bool pg)
    {
        writer.WriteString("@odata.etag", $"W/\"{reader.GetInt64(3).ToString(CultureInfo.InvariantCulture)}\"");
        if (pg)
        {
            writer.WriteString("productid", reader.GetGuid(0));
        }
        else
        {
            writer.WriteString("productid", reader.GetString(0));
        }

        writer.WriteString("name", reader.GetString(1));
        if (reader.IsDBNull(2))
        {
            writer.WriteNull("price");
        }
        else
        {
            writer.WriteNumber("price", reader.GetDecimal(2));
        }
    }
}
