using System.CommandLine;
using Causeway.Cli.Commands;

namespace Causeway.Cli;

/// <summary>The <c>causeway</c> command tree. Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.</summary>
public static class CliApp
{
    /// <summary><c>--url</c>: the server (or env CAUSEWAY_URL, or the login profile).</summary>
    public static readonly Option<string?> Url = new("--url") { Description = "Server URL, e.g. https://localhost:5443 (default: $CAUSEWAY_URL or the login profile)", Recursive = true };

    /// <summary><c>--token</c>: the bearer token.</summary>
    public static readonly Option<string?> Token = new("--token") { Description = "Bearer token (default: $CAUSEWAY_TOKEN or the login profile)", Recursive = true };

    /// <summary><c>--trust-certificate</c>: a PEM certificate to trust besides the system store.</summary>
    public static readonly Option<string?> TrustCertificate = new("--trust-certificate") { Description = "PEM certificate to trust besides the system store (e.g. DATA_DIR/certificate.pem)", Recursive = true };

    /// <summary><c>--json</c>: machine-readable output.</summary>
    public static readonly Option<bool> Json = new("--json") { Description = "Print JSON instead of tables", Recursive = true };

    /// <summary>Parses and runs one command line.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("causeway: manage a Causeway platform (environments, users, tokens, geographies).");
        root.Options.Add(Url);
        root.Options.Add(Token);
        root.Options.Add(TrustCertificate);
        root.Options.Add(Json);
        var context = new CliContext(output, error);
        root.Subcommands.Add(LoginCommand.Create(context));
        root.Subcommands.Add(GeographyCommands.Create(context));
        root.Subcommands.Add(EnvironmentCommands.Create(context));
        root.Subcommands.Add(TableCommands.Create(context));
        root.Subcommands.Add(UserCommands.Create(context));
        root.Subcommands.Add(TokenCommands.Create(context));
        root.Subcommands.Add(TenantCommands.Create(context));
        root.Subcommands.Add(NetworkCommands.Create(context));
        root.Subcommands.Add(ConnectorCommands.Create(context));
        root.Subcommands.Add(MachineCommands.Create(context));
        root.Subcommands.Add(DesktopFlowCommands.Create(context));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                await error.WriteLineAsync($"causeway: {e.Message}");
            }

            await error.WriteLineAsync("Run 'causeway --help' for usage.");
            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
