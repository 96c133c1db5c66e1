using Causeway.Platform;
using Causeway.Platform.Database;
using Causeway.Topology;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Causeway.Environments;

/// <summary>Where environment databases live (configuration section <c>EnvironmentDatabases</c>).</summary>
public sealed class EnvironmentDatabaseOptions
{
    /// <summary><c>sqlite</c> (default): a file per environment under the data directory; <c>postgresql</c>: a database per environment.</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>With PostgreSQL: the server of every scale group not named in <see cref="ScaleGroupServers"/> (a connection string to a maintenance database such as <c>postgres</c>).</summary>
    public string? Server { get; set; }

    /// <summary>With PostgreSQL: the server of each named scale group.</summary>
    public Dictionary<string, string> ScaleGroupServers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Checks the options against the topology; one message per wrong setting.</summary>
    public IEnumerable<string> Validate(DeploymentTopology topology)
    {
        var provider = PlatformOptions.ParseProvider(Provider);
        if (provider is null)
        {
            yield return $"EnvironmentDatabases:Provider must be 'sqlite' or 'postgresql' (it is '{Provider}').";
            yield break;
        }

        foreach (var name in ScaleGroupServers.Keys.Where(n => topology.FindScaleGroup(n) is null))
        {
            yield return $"EnvironmentDatabases:ScaleGroupServers:{name} names no scale group of this deployment.";
        }

        if (provider == DatabaseProvider.PostgreSql && string.IsNullOrWhiteSpace(Server) && topology.ScaleGroups.Any(g => !ScaleGroupServers.ContainsKey(g.Name)))
        {
            yield return "EnvironmentDatabases:Server is required with the postgresql provider unless EnvironmentDatabases:ScaleGroupServers names every scale group.";
        }
    }
}

/// <summary>
/// Creates, opens and drops the database each environment owns, on the server of its primary scale group.
/// With SQLite the "server" of a scale group is its folder: <c>{data dir}/datacenters/{dc}/{scale group}/environments/{id}.db</c>.
/// </summary>
public sealed class EnvironmentDatabases(EnvironmentDatabaseOptions options, PlatformOptions platform)
{
    private const string PostgresPrefix = "postgresql:";

    private DatabaseProvider Provider => PlatformOptions.ParseProvider(options.Provider) ?? DatabaseProvider.Sqlite;

    /// <summary>Creates the database of a new environment and returns its location (stored with the environment).</summary>
    public async Task<string> CreateAsync(Guid environmentId, string name, ScaleGroup scaleGroup, CancellationToken cancellationToken)
    {
        string location;
        if (Provider == DatabaseProvider.Sqlite)
        {
            location = Path.Combine("datacenters", scaleGroup.Datacenter, scaleGroup.Name, "environments", $"{environmentId:D}.db");
            Directory.CreateDirectory(Path.GetDirectoryName(FullPath(location))!);
        }
        else
        {
            var databaseName = DatabaseName(environmentId);
            await using var server = await new SqlDatabase(DatabaseProvider.PostgreSql, ServerOf(scaleGroup.Name)).OpenAsync(cancellationToken);
            // Identifiers cannot be parameters; the name is built from a GUID only, so it needs no escaping beyond quoting.
            await Sql.ExecuteAsync(server, null, $"CREATE DATABASE \"{databaseName}\"", cancellationToken);
            location = $"{PostgresPrefix}{scaleGroup.Name}/{databaseName}";
        }

        var database = Open(location);
        await using var connection = await database.OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, null, "CREATE TABLE causeway_environment (key TEXT PRIMARY KEY, value TEXT NOT NULL)", cancellationToken);
        await Sql.ExecuteAsync(connection, null, "INSERT INTO causeway_environment (key, value) VALUES ('id', @id), ('name', @name), ('scaleGroup', @sg)", cancellationToken,
            ("id", environmentId.ToString()), ("name", name), ("sg", scaleGroup.Name));
        return location;
    }

    /// <summary>The database at a stored location.</summary>
    public SqlDatabase Open(string location)
    {
        if (!location.StartsWith(PostgresPrefix, StringComparison.Ordinal))
        {
            return new SqlDatabase(DatabaseProvider.Sqlite, new SqliteConnectionStringBuilder { DataSource = FullPath(location), Mode = SqliteOpenMode.ReadWriteCreate, DefaultTimeout = 30 }.ToString());
        }

        var (scaleGroup, databaseName) = SplitPostgres(location);
        var builder = new NpgsqlConnectionStringBuilder(ServerOf(scaleGroup)) { Database = databaseName };
        return new SqlDatabase(DatabaseProvider.PostgreSql, builder.ToString());
    }

    /// <summary>True when the database at the location exists.</summary>
    public async Task<bool> ExistsAsync(string location, CancellationToken cancellationToken)
    {
        if (!location.StartsWith(PostgresPrefix, StringComparison.Ordinal))
        {
            return File.Exists(FullPath(location));
        }

        var (scaleGroup, databaseName) = SplitPostgres(location);
        await using var server = await new SqlDatabase(DatabaseProvider.PostgreSql, ServerOf(scaleGroup)).OpenAsync(cancellationToken);
        var rows = await Sql.QueryAsync(server, null, "SELECT 1 FROM pg_database WHERE datname = @n", r => 1, cancellationToken, ("n", databaseName));
        return rows.Count > 0;
    }

    /// <summary>Drops the database at the location. Idempotent: a database already gone is not an error.</summary>
    public async Task DropAsync(string location, CancellationToken cancellationToken)
    {
        if (!location.StartsWith(PostgresPrefix, StringComparison.Ordinal))
        {
            var path = FullPath(location);
            SqliteConnection.ClearPool(new SqliteConnection(Open(location).ConnectionString));
            foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
            {
                File.Delete(file);
            }

            return;
        }

        var (scaleGroup, databaseName) = SplitPostgres(location);
        NpgsqlConnection.ClearPool(new NpgsqlConnection(Open(location).ConnectionString));
        await using var server = await new SqlDatabase(DatabaseProvider.PostgreSql, ServerOf(scaleGroup)).OpenAsync(cancellationToken);
        await Sql.ExecuteAsync(server, null, $"DROP DATABASE IF EXISTS \"{databaseName}\" WITH (FORCE)", cancellationToken);
    }

    /// <summary>The absolute path of a SQLite location.</summary>
    public string FullPath(string location) => Path.GetFullPath(Path.Combine(platform.DataDirectory, location));

    private static string DatabaseName(Guid id) => $"env_{id:N}";

    private static (string ScaleGroup, string Database) SplitPostgres(string location)
    {
        var rest = location[PostgresPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return (rest[..slash], rest[(slash + 1)..]);
    }

    private string ServerOf(string scaleGroup) =>
        options.ScaleGroupServers.TryGetValue(scaleGroup, out var server) ? server
        : options.Server ?? throw new InvalidOperationException($"No PostgreSQL server is configured for scale group '{scaleGroup}'.");
}
