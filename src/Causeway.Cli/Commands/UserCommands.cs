using System.CommandLine;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway user create|list</c> and <c>causeway tenant create</c>.</summary>
internal static class UserCommands
{
    private static readonly (string, string)[] Columns = [("ID", "id"), ("NAME", "name"), ("EMAIL", "email"), ("TENANT ADMIN", "tenantAdmin")];

    public static Command Create(CliContext context)
    {
        var user = new Command("user", "Users of your tenant.");
        var name = new Option<string>("--name") { Description = "User name", Required = true };
        var email = new Option<string?>("--email") { Description = "E-mail address" };
        var admin = new Option<bool>("--tenant-admin") { Description = "Make the user a tenant administrator" };
        var create = new Command("create", "Create a user (tenant administrators only).") { name, email, admin };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Post, "/api/v1/users",
                new { name = parse.GetValue(name), email = parse.GetValue(email), tenantAdmin = parse.GetValue(admin) }, ct), Columns)));
        var list = new Command("list", "List the users of your tenant.");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/users", null, ct), Columns)));
        user.Subcommands.Add(create);
        user.Subcommands.Add(list);
        return user;
    }
}

/// <summary><c>causeway tenant create|list</c> (platform operators only).</summary>
internal static class TenantCommands
{
    public static Command Create(CliContext context)
    {
        var tenant = new Command("tenant", "Tenants (platform operators only).");
        var name = new Option<string>("--name") { Description = "Tenant name", Required = true };
        var administrator = new Option<string>("--administrator") { Description = "Name of the tenant's first administrator", Required = true };
        var create = new Command("create", "Create a tenant, its administrator and Default environment; prints the administrator's token once.") { name, administrator };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Post, "/api/v1/tenants",
                new { name = parse.GetValue(name), administrator = parse.GetValue(administrator) }, ct), ("ID", "id"), ("NAME", "name"), ("ADMINISTRATOR", "administrator.name"), ("TOKEN", "token"))));
        var list = new Command("list", "List tenants.");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/tenants", null, ct), ("ID", "id"), ("NAME", "name"))));
        tenant.Subcommands.Add(create);
        tenant.Subcommands.Add(list);
        return tenant;
    }
}
