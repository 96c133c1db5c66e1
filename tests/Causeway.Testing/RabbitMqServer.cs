using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Causeway.Testing;

/// <summary>
/// A private RabbitMQ node for tests: Debian's rabbitmq-server with its own node name, data, log and configuration in a
/// temporary folder, listening only on 127.0.0.1 on free ports (AMQP, Erlang distribution and its own epmd), with an
/// administrator user <see cref="AdminUser"/> whose password is random. Stopped, with its epmd, at the end.
/// </summary>
/// <remarks>
/// Use it as an xunit collection fixture so one node serves a whole test assembly (it takes a few seconds to boot).
/// If the binaries are missing the fixture fails (never skips) and says how to install them. <see cref="StopAsync"/>
/// and <see cref="StartAsync"/> restart the same node on the same port with the same data, for recovery tests.
/// </remarks>
public sealed class RabbitMqServer : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>The administrator user (all permissions on the default virtual host).</summary>
    public const string AdminUser = "causeway";

    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly string _nodeName = $"causeway-test-{Guid.NewGuid():N}@localhost";
    private string? _root;
    private int _distPort;
    private int _epmdPort;
    private Process? _process;

    /// <summary>AMQP port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>The administrator's URI (default virtual host).</summary>
    public Uri AdminUri => UriFor(AdminUser, _password);

    /// <summary>The URI of another user on this node.</summary>
    public Uri UriFor(string user, string password) =>
        new($"amqp://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>True while the node's process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Creates the folder and boots the node.</summary>
    public async Task InitializeAsync()
    {
        if (_root is not null)
        {
            return;
        }

        if (!File.Exists(Path.Combine(Bin, "rabbitmq-server")))
        {
            throw new InvalidOperationException(
                $"RabbitMQ was not found ({Bin}/rabbitmq-server). Run ./test.sh, which installs it (apt-get install rabbitmq-server), or install Debian's rabbitmq-server package.");
        }

        _root = Path.Combine(Path.GetTempPath(), $"causeway-rabbitmq-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_root);
        Port = FreeLoopbackPort();
        _distPort = FreeLoopbackPort();
        _epmdPort = FreeLoopbackPort();
        await File.WriteAllTextAsync(Path.Combine(_root, "enabled_plugins"), "[].\n");
        await File.WriteAllTextAsync(Path.Combine(_root, "rabbitmq.conf"), string.Join('\n',
            $"default_user = {AdminUser}",
            $"default_pass = {_password}",
            "loopback_users = none",
            "disk_free_limit.absolute = 1MB",
            "log.console = false",
            "") + "\n");
        await StartAsync();
    }

    /// <summary>Boots the node (again) and waits until it accepts AMQP connections.</summary>
    public async Task StartAsync()
    {
        if (_root is null)
        {
            throw new InvalidOperationException("Initialize the server first.");
        }

        if (IsRunning)
        {
            return;
        }

        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = _root };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"exec {Bin}/rabbitmq-server >> '{Path.Combine(_root, "console.log")}' 2>&1");
        Environment(info);
        _process = Process.Start(info) ?? throw new InvalidOperationException("rabbitmq-server did not start.");
        await Poll.UntilAsync(async () => _process.HasExited ? throw new InvalidOperationException($"rabbitmq-server exited with {_process.ExitCode}; see {_root}/console.log") : await AcceptsAmqpAsync(),
            TimeSpan.FromSeconds(60), $"the RabbitMQ node to accept AMQP connections on 127.0.0.1:{Port}");
    }

    /// <summary>Stops the node at once (as a crash or a restart would); connections drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    /// <summary>Adds a user with permissions (regular expressions over resource names) on the default virtual host.</summary>
    public async Task AddUserAsync(string user, string password, string configure, string write, string read)
    {
        await CtlAsync("add_user", user, password);
        await CtlAsync("set_permissions", "-p", "/", user, configure, write, read);
    }

    /// <summary>Runs rabbitmqctl against this node and returns its output.</summary>
    public async Task<string> CtlAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(Path.Combine(Bin, "rabbitmqctl")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        info.ArgumentList.Add("-n");
        info.ArgumentList.Add(_nodeName);
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        Environment(info);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("rabbitmqctl did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"rabbitmqctl {arguments.FirstOrDefault()} exited with {process.ExitCode}: {output}");
    }

    /// <summary>Stops the node and its epmd and deletes the folder.</summary>
    public async Task DisposeAsync()
    {
        await StopAsync();
        if (_epmdPort != 0)
        {
            await StopEpmdAsync();
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

    /// <summary>
    /// Stops the node's own epmd. It refuses while it still lists the node that was just killed, so ask until its port is
    /// closed.
    /// </summary>
    private async Task StopEpmdAsync()
    {
        if (!File.Exists("/usr/bin/epmd"))
        {
            return;
        }

        await Poll.UntilAsync(async () =>
        {
            var info = new ProcessStartInfo("/usr/bin/epmd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-port", _epmdPort.ToString(CultureInfo.InvariantCulture), "-kill" })
            {
                info.ArgumentList.Add(a);
            }

            using (var epmd = Process.Start(info) ?? throw new InvalidOperationException("epmd did not start."))
            {
                await epmd.WaitForExitAsync();
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _epmdPort);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }, TimeSpan.FromSeconds(15), $"the node's epmd on port {_epmdPort} to stop");
    }

    private void Environment(ProcessStartInfo info)
    {
        var root = _root!;
        info.Environment["HOME"] = root;
        info.Environment["RABBITMQ_NODENAME"] = _nodeName;
        info.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        info.Environment["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        info.Environment["RABBITMQ_DIST_PORT"] = _distPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        info.Environment["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(root, "mnesia");
        info.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(root, "log");
        info.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(root, "rabbitmq.conf");
        info.Environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(root, "advanced.config");
        info.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(root, "enabled_plugins");
        info.Environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(root, "rabbitmq-env.conf");
        info.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
    }

    /// <summary>True when the port answers the AMQP 0-9-1 protocol header with a method frame (connection.start).</summary>
    private async Task<bool> AcceptsAmqpAsync()
    {
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await tcp.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("AMQP").Concat(new byte[] { 0, 0, 9, 1 }).ToArray(), timeout.Token);
        var first = new byte[1];
        return await stream.ReadAsync(first, timeout.Token) == 1 && first[0] == 1;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
