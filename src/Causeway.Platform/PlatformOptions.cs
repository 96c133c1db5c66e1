using Causeway.Platform.Database;

namespace Causeway.Platform;

/// <summary>Where the platform keeps its state (configuration section <c>Database</c> plus the data directory).</summary>
public sealed class PlatformOptions
{
    /// <summary>The data directory: certificates, the admin token, SQLite files.</summary>
    public string DataDirectory { get; set; } = ".causeway";

    /// <summary><c>sqlite</c> (default) or <c>postgresql</c>; configuration key <c>Database:Provider</c>.</summary>
    public string DatabaseProvider { get; set; } = "sqlite";

    /// <summary>
    /// The platform database; configuration key <c>Database:ConnectionString</c>. With SQLite and none given,
    /// <c>{DataDirectory}/platform.db</c>. Required with PostgreSQL.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Parses <see cref="DatabaseProvider"/>; null when it is neither sqlite nor postgresql.</summary>
    public static DatabaseProvider? ParseProvider(string? text) => text?.ToLowerInvariant() switch
    {
        "sqlite" => Database.DatabaseProvider.Sqlite,
        "postgresql" or "postgres" => Database.DatabaseProvider.PostgreSql,
        _ => null,
    };

    /// <summary>Checks the options; returns one message per wrong setting, naming it.</summary>
    public IEnumerable<string> Validate()
    {
        var provider = ParseProvider(DatabaseProvider);
        if (provider is null)
        {
            yield return $"Database:Provider must be 'sqlite' or 'postgresql' (it is '{DatabaseProvider}').";
        }
        else if (provider == Database.DatabaseProvider.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return "Database:ConnectionString is required when Database:Provider is 'postgresql' (for example 'Host=127.0.0.1;Port=5432;Database=causeway;Username=causeway').";
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            yield return "--data-dir (Server:DataDirectory) must name a folder.";
        }
    }

    /// <summary>The platform database these options describe.</summary>
    public SqlDatabase CreateDatabase()
    {
        var provider = ParseProvider(DatabaseProvider) ?? throw new InvalidOperationException("Validate the options first.");
        var connectionString = ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(DataDirectory, "platform.db"),
                Pooling = true,
                DefaultTimeout = 30,
            }.ToString();
        }

        return new SqlDatabase(provider, connectionString);
    }
}
