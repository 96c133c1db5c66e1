using System.CommandLine;
using System.Text.Json;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway login</c>: checks the URL and token against the server and saves them in the profile (mode 0600).</summary>
internal static class LoginCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("login", "Check --url and --token against the server and save them for later commands.");
        command.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var me = await CliContext.SendAsync(profile, HttpMethod.Get, "/api/v1/me", null, ct);
            var path = CliContext.ProfilePath;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(path, options))
            {
                await JsonSerializer.SerializeAsync(file, profile, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }, ct);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            await context.Output.WriteLineAsync($"Logged in to {profile.Url} as {me?["name"]}; profile saved to {path}.");
        }));
        return command;
    }
}
