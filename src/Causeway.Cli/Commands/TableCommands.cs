using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway table create|list|show|delete</c> and <c>causeway table column add|remove</c>.</summary>
internal static class TableCommands
{
    private static readonly (string, string)[] Columns =
        [("NAME", "logicalName"), ("DISPLAY NAME", "displayName"), ("ENTITY SET", "entitySetName"), ("KEY", "primaryKey")];

    private static readonly (string, string)[] ColumnColumns =
        [("COLUMN", "logicalName"), ("TYPE", "type"), ("REQUIRED", "required"), ("MAX LENGTH", "maxLength"), ("TARGET", "target"), ("DEFAULT", "default")];

    public static Command Create(CliContext context)
    {
        var table = new Command("table", "Tables of an environment (served by its Data API).");
        var environment = new Option<string>("--environment", "-e") { Description = "Environment id or name", Required = true };

        var file = new Option<string?>("--file") { Description = "JSON definition: {\"logicalName\":..., \"displayName\":..., \"columns\":[...]}" };
        var name = new Option<string?>("--name") { Description = "Logical name: lower-case letters, digits, '_' (with --column instead of --file)" };
        var displayName = new Option<string?>("--display-name") { Description = "Display name" };
        var column = new Option<string[]>("--column") { Description = "NAME:TYPE[:key=value,...] e.g. name:text:maxLength=100,required or category:lookup:target=category (repeatable)", AllowMultipleArgumentsPerToken = false };
        var create = new Command("create", "Create a table (from --file, or from --name and --column).") { environment, file, name, displayName, column };
        create.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            JsonNode body;
            if (parse.GetValue(file) is { } path)
            {
                if (parse.GetValue(name) is not null || parse.GetValue(column) is { Length: > 0 })
                {
                    throw new CliException("use either --file or --name/--column, not both.");
                }

                body = JsonNode.Parse(await File.ReadAllTextAsync(path, ct)) ?? throw new CliException($"{path} holds no JSON object.");
            }
            else
            {
                body = new JsonObject
                {
                    ["logicalName"] = parse.GetValue(name) ?? throw new CliException("give --file or --name."),
                    ["displayName"] = parse.GetValue(displayName),
                    ["columns"] = new JsonArray([.. (parse.GetValue(column) ?? []).Select(ParseColumn)]),
                };
            }

            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            await context.PrintAsync(parse, await CliContext.SendAsync(profile, HttpMethod.Post, $"/api/v1/environments/{id}/tables", body, ct), Columns);
        }));

        var list = new Command("list", "List the tables of an environment.") { environment };
        list.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            await context.PrintAsync(parse, await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{id}/tables", null, ct), Columns);
        }));

        var tableName = new Argument<string>("table") { Description = "Table logical name" };
        var show = new Command("show", "Show a table and its columns.") { tableName, environment };
        show.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var node = await CliContext.SendAsync(profile, HttpMethod.Get, $"/api/v1/environments/{id}/tables/{Uri.EscapeDataString(parse.GetValue(tableName)!)}", null, ct);
            await context.PrintAsync(parse, node, Columns);
            if (!parse.GetValue(CliApp.Json))
            {
                await context.Output.WriteLineAsync();
                await context.PrintAsync(parse, node?["columns"], ColumnColumns);
            }
        }));

        var delete = new Command("delete", "Delete a table and its rows.") { tableName, environment };
        delete.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var logical = parse.GetValue(tableName)!;
            await CliContext.SendAsync(profile, HttpMethod.Delete, $"/api/v1/environments/{id}/tables/{Uri.EscapeDataString(logical)}", null, ct);
            await context.Output.WriteLineAsync(parse.GetValue(CliApp.Json)
                ? new JsonObject { ["table"] = logical, ["deleted"] = true }.ToJsonString()
                : $"Deleted table {logical}.");
        }));

        table.Subcommands.Add(create);
        table.Subcommands.Add(list);
        table.Subcommands.Add(show);
        table.Subcommands.Add(delete);
        table.Subcommands.Add(ColumnCommand(context, environment, tableName));
        return table;
    }

    private static Command ColumnCommand(CliContext context, Option<string> environment, Argument<string> tableName)
    {
        var columnCommand = new Command("column", "Columns of a table.");
        var name = new Option<string>("--name") { Description = "Column logical name", Required = true };
        var type = new Option<string>("--type") { Description = "text, memo, integer, bigint, decimal, float, money, boolean, datetime, date, guid, choice or lookup", Required = true };
        var maxLength = new Option<int?>("--max-length") { Description = "Maximum length (text, memo)" };
        var required = new Option<bool>("--required") { Description = "A value is required (needs --default on a table with rows)" };
        var target = new Option<string?>("--target") { Description = "Target table of a lookup" };
        var defaultValue = new Option<string?>("--default") { Description = "Default value (JSON literal, e.g. 3, true or \"text\")" };
        var add = new Command("add", "Add a column to a table.") { tableName, environment, name, type, maxLength, required, target, defaultValue };
        add.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var body = new JsonObject
            {
                ["logicalName"] = parse.GetValue(name),
                ["type"] = parse.GetValue(type),
                ["maxLength"] = parse.GetValue(maxLength),
                ["required"] = parse.GetValue(required),
                ["target"] = parse.GetValue(target),
                ["default"] = parse.GetValue(defaultValue) is { } d ? Literal(d) : null,
            };
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var node = await CliContext.SendAsync(profile, HttpMethod.Post, $"/api/v1/environments/{id}/tables/{Uri.EscapeDataString(parse.GetValue(tableName)!)}/columns", body, ct);
            await context.PrintAsync(parse, parse.GetValue(CliApp.Json) ? node : node?["columns"], ColumnColumns);
        }));

        var columnName = new Argument<string>("column") { Description = "Column logical name" };
        var remove = new Command("remove", "Remove a column and its data.") { tableName, columnName, environment };
        remove.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var profile = CliContext.Resolve(parse);
            var id = await EnvironmentCommands.ResolveIdAsync(profile, parse.GetValue(environment)!, ct);
            var logical = parse.GetValue(columnName)!;
            await CliContext.SendAsync(profile, HttpMethod.Delete, $"/api/v1/environments/{id}/tables/{Uri.EscapeDataString(parse.GetValue(tableName)!)}/columns/{Uri.EscapeDataString(logical)}", null, ct);
            await context.Output.WriteLineAsync(parse.GetValue(CliApp.Json)
                ? new JsonObject { ["column"] = logical, ["removed"] = true }.ToJsonString()
                : $"Removed column {logical}.");
        }));

        columnCommand.Subcommands.Add(add);
        columnCommand.Subcommands.Add(remove);
        return columnCommand;
    }

    /// <summary><c>NAME:TYPE[:key=value,...]</c>; keys maxLength, required, target, default, displayName.</summary>
    internal static JsonObject ParseColumn(string spec)
    {
        var parts = spec.Split(':', 3);
        if (parts.Length < 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new CliException($"--column '{spec}' must look like NAME:TYPE[:key=value,...].");
        }

        var column = new JsonObject { ["logicalName"] = parts[0], ["type"] = parts[1] };
        foreach (var setting in parts.Length == 3 ? parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [])
        {
            var (key, value) = setting.Split('=', 2) is [var k, var v] ? (k, v) : (setting, "true");
            switch (key)
            {
                case "maxLength" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length):
                    column["maxLength"] = length;
                    break;
                case "required":
                    column["required"] = value != "false";
                    break;
                case "target" or "displayName":
                    column[key] = value;
                    break;
                case "default":
                    column["default"] = Literal(value);
                    break;
                default:
                    throw new CliException($"--column '{spec}': '{setting}' is not one of maxLength=N, required, target=TABLE, default=VALUE, displayName=TEXT.");
            }
        }

        return column;
    }

    private static JsonNode? Literal(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
