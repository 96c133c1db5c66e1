using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Xunit;

namespace Causeway.Testing;

/// <summary>
/// A private PostgreSQL server for tests: Debian's initdb/pg_ctl in a temporary folder, listening only on
/// 127.0.0.1 with its socket inside that folder, trust authentication for user <c>postgres</c>.
/// </summary>
/// <remarks>
/// Use it as an xunit collection fixture so one server serves a whole test assembly:
/// <code>
/// [CollectionDefinition("postgres")] public sealed class PostgresCollection : ICollectionFixture&lt;PostgresServer&gt;;
/// </code>
/// initdb refuses to run as root, so when the tests run as root the data folder is given to the
/// <c>postgres</c> system user and initdb/pg_ctl run through <c>runuser</c>. If the binaries are missing the
/// fixture fails (never skips) and says how to install them. Thread-safe after <see cref="InitializeAsync"/>.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime, IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private string? _binDirectory;
    private string? _root;
    private string? _dataDirectory;
    private bool _started;

    /// <summary>TCP port on 127.0.0.1 the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Connection string of the <c>postgres</c> maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    /// <summary>Directory holding psql, pg_dump and the other client programs of the server in use.</summary>
    public string BinDirectory => _binDirectory ?? throw new InvalidOperationException("The PostgreSQL server has not been started.");

    /// <summary>Starts the server; idempotent.</summary>
    public async Task InitializeAsync()
    {
        if (_started)
        {
            return;
        }

        _binDirectory = FindBinDirectory();
        var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        _root = Path.Combine(Path.GetTempPath(), $"causeway-pg-{Guid.NewGuid():N}");
        _dataDirectory = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        if (asRoot)
        {
            await RunAsync("chown", [SuperUser, _root], asPostgres: false);
        }

        await RunAsync(Path.Combine(_binDirectory, "initdb"), ["-D", _dataDirectory, "-A", "trust", "-U", SuperUser, "-E", "UTF8", "--no-locale"], asRoot);

        // A port picked by the OS can be taken again before postgres binds it: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 3 && !_started; attempt++)
        {
            Port = FreeLoopbackPort();
            var options = $"-c listen_addresses=127.0.0.1 -p {Port.ToString(CultureInfo.InvariantCulture)} -k {_root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-o", options, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "30", "start"], asRoot);
                _started = true;
            }
            catch (InvalidOperationException ex)
            {
                last = ex;
            }
        }

        if (!_started)
        {
            throw new InvalidOperationException($"PostgreSQL did not start (log: {Path.Combine(_root, "server.log")}).", last);
        }
    }

    /// <summary>Connection string for <paramref name="database"/> on this server (user postgres, no password, pooling off so drops never wait).</summary>
    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = database,
        Pooling = false,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>Creates an empty database (UTF8) and returns its connection string.</summary>
    /// <param name="name">Lower-case letters, digits and underscores; must not exist yet.</param>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
        {
            throw new ArgumentException("Database names are limited to lower-case letters, digits and '_'.", nameof(name));
        }

        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Runs a SQL script file with psql into <paramref name="database"/>, stopping at the first error.</summary>
    public Task RunScriptAsync(string database, string scriptPath) =>
        RunAsync(Path.Combine(BinDirectory, "psql"),
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", SuperUser, "-d", database, "-f", scriptPath],
            asPostgres: false);

    /// <summary>Stops the server immediately and deletes its folder.</summary>
    public async Task DisposeAsync()
    {
        if (_started && _binDirectory is not null && _dataDirectory is not null)
        {
            _started = false;
            var asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
            try
            {
                await RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", _dataDirectory, "-m", "immediate", "-w", "stop"], asRoot);
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing to stop.
            }
        }

        if (_root is not null && Directory.Exists(_root))
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    private static string FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(Root)
            ? Directory.GetDirectories(Root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .ToList()
            : [];
        return candidates.Count > 0
            ? candidates[0]
            : throw new InvalidOperationException(
                "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin (initdb, pg_ctl). " +
                "Run ./test.sh, which installs them (apt-get install postgresql), or install Debian's postgresql package.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var info = new ProcessStartInfo
        {
            FileName = asPostgres ? "runuser" : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", SuperUser, "--", program })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        output.Append(await stdout).Append(await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {output}");
        }
    }
}
