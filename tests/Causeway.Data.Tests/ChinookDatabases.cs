using System.Data.Common;
using System.Text.Json;
using Causeway.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Causeway.Data.Tests;

/// <summary>The Chinook sample database in SQLite (the file shipped with the tests) and PostgreSQL (loaded from the dump once per server).</summary>
internal static class ChinookDatabases
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _postgres;

    public static string SqlitePath => Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_Sqlite.sqlite");

    public static DbConnection OpenSqlite()
    {
        var connection = new SqliteConnection($"Data Source={SqlitePath};Mode=ReadOnly");
        connection.Open();
        return connection;
    }

    public static async Task<DbConnection> OpenPostgresAsync(PostgresServer server)
    {
        await Gate.WaitAsync();
        try
        {
            if (_postgres is null)
            {
                var connectionString = await server.CreateDatabaseAsync("chinook");

                // The dump drops, creates and connects to its own database; load only its tables into ours.
                var lines = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "chinook", "Chinook_PostgreSql.sql"));
                var script = Path.Combine(Path.GetTempPath(), $"chinook-{Guid.NewGuid():N}.sql");
                await File.WriteAllLinesAsync(script, lines.Where(l => !l.StartsWith("DROP DATABASE", StringComparison.Ordinal) && !l.StartsWith("CREATE DATABASE", StringComparison.Ordinal) && !l.StartsWith("\\c ", StringComparison.Ordinal)));
                try
                {
                    await server.RunScriptAsync("chinook", script);
                }
                finally
                {
                    File.Delete(script);
                }

                _postgres = connectionString;
            }
        }
        finally
        {
            Gate.Release();
        }

        var connection = new NpgsqlConnection(_postgres);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs a query and parses the OData JSON it streams.</summary>
    public static async Task<JsonElement> QueryAsync(DataEngine engine, DbConnection connection, string entitySet, string query, QueryLimits? limits = null, string? key = null)
    {
        var plan = engine.ParseQuery(entitySet, key, ParseQueryString(query), limits);
        using var buffer = new MemoryStream();
        await engine.ExecuteQueryAsync(connection, plan, buffer, new Uri("https://example.test/api/data/v9.2/"));
        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    public static Dictionary<string, string> ParseQueryString(string query)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            options[Uri.UnescapeDataString(part[..eq])] = Uri.UnescapeDataString(part[(eq + 1)..]);
        }

        return options;
    }

    /// <summary>Rows of a hand-written query, read with plain ADO.NET.</summary>
    public static async Task<List<object?[]>> RowsAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
