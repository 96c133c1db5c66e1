using Causeway.Environments;
using Causeway.Platform.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Causeway.DataApi;

/// <summary>A table as the API shows it.</summary>
public sealed record TableResponse(string LogicalName, string DisplayName, string EntitySetName, string PrimaryKey, IReadOnlyList<ColumnDefinition> Columns, IReadOnlyList<string> SystemColumns);

/// <summary><c>/api/v1/environments/{id}/tables</c>: define tables in an environment.</summary>
public static class TablesApi
{
    /// <summary>Maps the tables endpoints onto the authenticated API group. Reading needs Basic User; changing needs Environment Maker.</summary>
    public static RouteGroupBuilder MapTablesApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/environments/{id:guid}/tables").WithTags("Tables");

        group.MapPost("/", (Guid id, TableDefinition body, HttpContext context, CancellationToken ct) =>
            ChangeAsync(context, id, ct, async (store, environment) =>
            {
                var table = await store.CreateTableAsync(environment, body, ct);
                return Results.Created($"/api/v1/environments/{id}/tables/{table.LogicalName}", ToResponse(table));
            })).WithName("CreateTable");

        group.MapGet("/", async (Guid id, HttpContext context, CancellationToken ct) =>
        {
            var (environment, problem) = await AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var snapshot = await context.RequestServices.GetRequiredService<TableStore>().GetAsync(environment!, ct);
            return Results.Ok(snapshot.Tables.Select(ToResponse));
        }).WithName("ListTables");

        group.MapGet("/{table}", async (Guid id, string table, HttpContext context, CancellationToken ct) =>
        {
            var (environment, problem) = await AuthorizeAsync(context, id, EnvironmentRole.BasicUser, ct);
            if (problem is not null)
            {
                return problem;
            }

            var snapshot = await context.RequestServices.GetRequiredService<TableStore>().GetAsync(environment!, ct);
            return snapshot.Tables.FirstOrDefault(t => t.LogicalName == table) is { } found
                ? Results.Ok(ToResponse(found))
                : Problems.NotFound($"Table '{TableRules.Shorten(table)}'");
        }).WithName("GetTable");

        group.MapDelete("/{table}", (Guid id, string table, HttpContext context, CancellationToken ct) =>
            ChangeAsync(context, id, ct, async (store, environment) =>
            {
                await store.DeleteTableAsync(environment, table, ct);
                return Results.NoContent();
            })).WithName("DeleteTable");

        group.MapPost("/{table}/columns", (Guid id, string table, ColumnDefinition body, HttpContext context, CancellationToken ct) =>
            ChangeAsync(context, id, ct, async (store, environment) =>
            {
                var changed = await store.AddColumnAsync(environment, table, body, ct);
                return Results.Created($"/api/v1/environments/{id}/tables/{table}", ToResponse(changed));
            })).WithName("AddColumn");

        group.MapDelete("/{table}/columns/{column}", (Guid id, string table, string column, HttpContext context, CancellationToken ct) =>
            ChangeAsync(context, id, ct, async (store, environment) =>
            {
                await store.RemoveColumnAsync(environment, table, column, ct);
                return Results.NoContent();
            })).WithName("RemoveColumn");

        return api;
    }

    /// <summary>The table as the API shows it.</summary>
    public static TableResponse ToResponse(TableDefinition table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new TableResponse(table.LogicalName!, table.DisplayName!, table.EntitySetName!, table.PrimaryKey, table.Columns ?? [], TableRules.SystemColumns);
    }

    private static async Task<IResult> ChangeAsync(HttpContext context, Guid id, CancellationToken ct, Func<TableStore, EnvironmentRecord, Task<IResult>> change)
    {
        var (environment, problem) = await AuthorizeAsync(context, id, EnvironmentRole.EnvironmentMaker, ct);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            return await change(context.RequestServices.GetRequiredService<TableStore>(), environment!);
        }
        catch (TableRequestException e)
        {
            return e.StatusCode switch
            {
                404 => Results.Problem(detail: e.Message, statusCode: 404, title: "Not Found"),
                409 => Problems.Conflict(e.Message),
                _ => Problems.Invalid(e.Field, e.Message),
            };
        }
    }

    private static async Task<(EnvironmentRecord? Environment, IResult? Problem)> AuthorizeAsync(HttpContext context, Guid id, EnvironmentRole needed, CancellationToken ct)
    {
        var environments = context.RequestServices.GetRequiredService<EnvironmentService>();
        var (environment, _, problem) = await environments.AuthorizeAsync(context, id, needed, ct);
        if (problem is not null)
        {
            return (null, problem);
        }

        var state = environment!.StateAt(context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
        return state switch
        {
            EnvironmentState.Ready => (environment, null),
            EnvironmentState.Disabled => (null, Problems.Forbidden($"Environment '{environment.Name}' is disabled (its trial expired); its tables cannot be read or changed.")),
            _ => (null, Results.Problem(detail: $"Environment '{environment.Name}' is {state.ToString().ToLowerInvariant()}; try again when it is ready.", statusCode: 409, title: "Conflict")),
        };
    }
}
