using System.CommandLine;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway token create|list|revoke</c>.</summary>
internal static class TokenCommands
{
    private static readonly (string, string)[] Columns = [("ID", "id"), ("USER", "userId"), ("NAME", "name"), ("EXPIRES", "expiresAt"), ("REVOKED", "revokedAt")];

    public static Command Create(CliContext context)
    {
        var token = new Command("token", "Bearer tokens (shown once, stored only as hashes).");
        var name = new Option<string>("--name") { Description = "A label for the token", DefaultValueFactory = _ => "cli" };
        var user = new Option<Guid?>("--user") { Description = "User id (default: yourself; others need a tenant administrator)" };
        var days = new Option<int?>("--expires-in-days") { Description = "Days until it expires (default: never)" };
        var create = new Command("create", "Issue a token; it is printed once.") { name, user, days };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Post, "/api/v1/tokens",
                new { name = parse.GetValue(name), userId = parse.GetValue(user), expiresInDays = parse.GetValue(days) }, ct), [.. Columns, ("TOKEN", "token")])));
        var list = new Command("list", "List tokens (metadata only).");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/tokens", null, ct), Columns)));
        var id = new Argument<Guid>("id") { Description = "Token id" };
        var revoke = new Command("revoke", "Revoke a token.") { id };
        revoke.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Delete, $"/api/v1/tokens/{parse.GetValue(id)}", null, ct);
            await context.Output.WriteLineAsync(parse.GetValue(CliApp.Json) ? $"{{\"id\": \"{parse.GetValue(id)}\", \"revoked\": true}}" : $"Revoked token {parse.GetValue(id)}.");
        }));
        token.Subcommands.Add(create);
        token.Subcommands.Add(list);
        token.Subcommands.Add(revoke);
        return token;
    }
}
