using System.CommandLine;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Causeway.Cli.Commands;

/// <summary><c>causeway connector import|list</c>.</summary>
internal static class ConnectorCommands
{
    private static readonly string[] PackageFiles = ["apiDefinition.swagger.json", "apiProperties.json", "script.csx"];

    public static Command Create(CliContext context)
    {
        var connector = new Command("connector", "Connector packages (OpenAPI 2.0 + apiProperties.json [+ script.csx]).");
        var path = new Argument<string>("path") { Description = "A package folder or a .zip of one" };
        var import = new Command("import", "Import a connector package into your tenant (tenant administrators only).") { path };
        import.SetAction((parse, ct) => context.RunAsync(async () =>
        {
            var source = parse.GetValue(path)!;
            // A folder travels zipped: packages compress well, and the largest ones exceed the API's JSON body limit.
            byte[] zip;
            if (Directory.Exists(source))
            {
                if (!File.Exists(Path.Combine(source, PackageFiles[0])))
                {
                    throw new CliException($"'{source}' has no {PackageFiles[0]}; is it a connector package folder?");
                }

                using var buffer = new MemoryStream();
                using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
                {
                    foreach (var name in PackageFiles.Where(n => File.Exists(Path.Combine(source, n))))
                    {
                        await archive.CreateEntryFromFileAsync(Path.Combine(source, name), name, CompressionLevel.Optimal, ct);
                    }
                }

                zip = buffer.ToArray();
            }
            else if (File.Exists(source))
            {
                zip = await File.ReadAllBytesAsync(source, ct);
            }
            else
            {
                throw new CliException($"'{source}' is neither a package folder nor a zip file.");
            }

            var content = new ByteArrayContent(zip);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            var text = await CliContext.SendRawAsync(CliContext.Resolve(parse), HttpMethod.Post, "/api/v1/connectors", content, ct);
            var node = JsonNode.Parse(text);
            if (!parse.GetValue(CliApp.Json) && node is not null)
            {
                node["firstParty"] = node["classification"]?["firstParty"]?.DeepClone();
                node["operationCount"] = (node["operations"] as JsonArray)?.Count;
            }

            await context.PrintAsync(parse, node, ("NAME", "name"), ("DISPLAY NAME", "displayName"), ("OPERATIONS", "operationCount"), ("FIRST PARTY", "firstParty"));
        }));
        var list = new Command("list", "List the connectors your tenant can use (built-in and imported).");
        list.SetAction((parse, ct) => context.RunAsync(async () =>
            await context.PrintAsync(parse, await CliContext.SendAsync(CliContext.Resolve(parse), HttpMethod.Get, "/api/v1/connectors", null, ct),
                ("NAME", "name"), ("DISPLAY NAME", "displayName"), ("FIRST PARTY", "classification.firstParty"))));
        connector.Subcommands.Add(import);
        connector.Subcommands.Add(list);
        return connector;
    }
}
