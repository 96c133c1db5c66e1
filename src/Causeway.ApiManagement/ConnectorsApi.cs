using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Causeway.Connectors;
using Causeway.Platform.Http;
using Causeway.Platform.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.ApiManagement;

/// <summary>One operation as the catalog shows it.</summary>
public sealed record ConnectorOperationResponse(string OperationId, string Method, string Path);

/// <summary>A connector's network classification as the catalog shows it.</summary>
public sealed record ConnectorClassificationResponse(bool FirstParty, string Reason);

/// <summary>One connection parameter as the catalog shows it.</summary>
public sealed record ConnectionParameterResponse(string Name, string Type, bool Required, bool Secret);

/// <summary>A connector as <c>/api/v1/connectors</c> shows it.</summary>
public sealed record ConnectorResponse(
    string Name, string DisplayName, string? Description, bool BuiltIn, IReadOnlyList<ConnectorOperationResponse> Operations,
    ConnectorClassificationResponse Classification, IReadOnlyList<ConnectionParameterResponse> ConnectionParameters,
    IReadOnlyList<string> ParameterSets, IReadOnlyList<string> Warnings)
{
    internal static ConnectorResponse From(ConnectorDefinition c) => new(
        c.Name, c.DisplayName, c.Description, c.IsBuiltIn,
        c.Operations.Select(o => new ConnectorOperationResponse(o.OperationId, o.Method, o.PathTemplate)).ToList(),
        new ConnectorClassificationResponse(c.Classification.Kind == ConnectorNetworkKind.FirstParty, c.Classification.Reason),
        c.ConnectionParameters.Select(p => new ConnectionParameterResponse(p.Name, ConnectionsApi.TypeWire(p.Type), p.Required, p.IsSecret)).ToList(),
        c.ConnectionParameterSets.Select(s => s.Name).ToList(), c.Warnings);
}

/// <summary>The connector catalog over REST: <c>/api/v1/connectors</c>.</summary>
public static class ConnectorsApi
{
    /// <summary>
    /// Maps <c>/connectors</c> (catalog) and <c>/environments/{id}/connections</c> (connections) onto the authenticated API
    /// group. Importing and deleting connectors needs a tenant administrator; every user of the tenant can read the catalog.
    /// </summary>
    public static RouteGroupBuilder MapConnectorsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/connectors").WithTags("Connectors");

        group.MapPost("/", async (HttpContext context, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only a tenant administrator can import connectors.");
            }

            var store = context.RequestServices.GetRequiredService<ConnectorStore>();
            ConnectorDefinition parsed;
            StoredPackage package;
            try
            {
                (parsed, package) = await ReadPackageAsync(context.Request, ct);
            }
            catch (ConnectorImportException e)
            {
                return Results.Problem(detail: e.Message, statusCode: 400, title: "The connector package is not valid.",
                    extensions: new Dictionary<string, object?> { ["file"] = e.File, ["jsonPath"] = e.JsonPath });
            }

            var stored = await store.AddAsync(caller.TenantId, caller.UserId, parsed, package, ct);
            return Results.Created($"/api/v1/connectors/{stored.Name}", ConnectorResponse.From(stored));
        }).WithName("ImportConnector");

        group.MapGet("/", async (HttpContext context, CancellationToken ct) =>
        {
            var store = context.RequestServices.GetRequiredService<ConnectorStore>();
            return Results.Ok((await store.ListAsync(context.GetCaller().TenantId, ct)).Select(ConnectorResponse.From));
        }).WithName("ListConnectors");

        group.MapGet("/{name}", async (string name, HttpContext context, CancellationToken ct) =>
        {
            var store = context.RequestServices.GetRequiredService<ConnectorStore>();
            var connector = await store.FindAsync(context.GetCaller().TenantId, name, ct);
            return connector is null ? Problems.NotFound($"Connector '{TenancyApi.Shorten(name)}'") : Results.Ok(ConnectorResponse.From(connector));
        }).WithName("GetConnector");

        group.MapDelete("/{name}", async (string name, HttpContext context, CancellationToken ct) =>
        {
            var caller = context.GetCaller();
            var store = context.RequestServices.GetRequiredService<ConnectorStore>();
            var connector = await store.FindAsync(caller.TenantId, name, ct);
            if (connector is null)
            {
                return Problems.NotFound($"Connector '{TenancyApi.Shorten(name)}'");
            }

            if (!caller.IsTenantAdmin)
            {
                return Problems.Forbidden("Only a tenant administrator can delete connectors.");
            }

            if (connector.IsBuiltIn)
            {
                return Problems.Conflict($"Connector '{connector.Name}' is built in and cannot be deleted.");
            }

            var used = await store.CountConnectionsAsync(caller.TenantId, connector.Name, ct);
            if (used > 0)
            {
                return Problems.Conflict($"Connector '{connector.Name}' is used by {used} connection(s); delete them first.");
            }

            await store.DeleteAsync(caller.TenantId, connector.Name, ct);
            return Results.NoContent();
        }).WithName("DeleteConnector");

        api.MapConnectionsApi();
        return api;
    }

    private static async Task<(ConnectorDefinition, StoredPackage)> ReadPackageAsync(HttpRequest request, CancellationToken ct)
    {
        var type = request.ContentType ?? "";
        if (type.StartsWith("application/zip", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/x-zip", StringComparison.OrdinalIgnoreCase))
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            buffer.Position = 0;
            var parsed = ConnectorPackageReader.ReadZip(buffer);
            buffer.Position = 0;
            using var zip = new ZipArchive(buffer, ZipArchiveMode.Read);
            string? Text(string name)
            {
                var entry = zip.Entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase) && e.FullName.Count(c => c == '/') <= 1);
                if (entry is null)
                {
                    return null;
                }

                using var reader = new StreamReader(entry.Open(), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
                return reader.ReadToEnd();
            }

            return (parsed, new StoredPackage(Text(ConnectorPackageReader.ApiDefinitionFile)!, Text(ConnectorPackageReader.ApiPropertiesFile)!, Text(ConnectorPackageReader.ScriptFile)));
        }

        if (!type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConnectorImportException("request", "$", "send application/json {\"apiDefinition\", \"apiProperties\", \"script\"} or an application/zip package");
        }

        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(request.Body, cancellationToken: ct)).RootElement;
        }
        catch (JsonException e)
        {
            throw new ConnectorImportException("request", "$", $"not valid JSON: {e.Message}", e);
        }

        var definition = ConnectorPackageReader.ReadRequestBody(body);
        var script = body.TryGetProperty("script", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        return (definition, new StoredPackage(body.GetProperty("apiDefinition").GetRawText(), body.GetProperty("apiProperties").GetRawText(), script));
    }
}
