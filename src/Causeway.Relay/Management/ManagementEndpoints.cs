using System.Net.WebSockets;
using System.Text.RegularExpressions;
using Causeway.Relay.DataPlane;
using Causeway.Relay.HybridConnections;
using Causeway.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Causeway.Relay.Management;

/// <summary>Handlers of the management API. Validation happens before anything is stored.</summary>
internal static partial class ManagementEndpoints
{
    public const string Route = "/api/v1/relay/hybridconnections";
    private const int MaxPathLength = 260;

    public static async Task<IResult> CreateAsync(
        CreateHybridConnectionRequest? body, HttpContext context, IHybridConnectionStore store, RelayHub hub,
        IOptions<RelayOptions> options, RelayManagementOptions management, TimeProvider timeProvider)
    {
        if (body is null)
        {
            return Invalid("The body must be a JSON object such as {\"path\":\"echo\"}.");
        }

        var path = body.Path?.Trim('/') ?? "";
        if (ValidatePath(path) is { } pathError)
        {
            return Invalid(pathError);
        }

        var rules = new List<AuthorizationRule>
        {
            NewRule(HybridConnection.DefaultRuleName, HybridConnection.AllRights),
        };
        foreach (var requested in body.AuthorizationRules ?? [])
        {
            var name = requested.KeyName ?? "";
            if (!KeyNamePattern().IsMatch(name))
            {
                return Invalid($"Authorization rule name '{name}' is invalid: use 1-256 letters, digits, '.', '-' or '_'.");
            }

            if (rules.Any(r => r.KeyName.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                return Invalid($"Authorization rule '{name}' appears twice (RootManageSharedAccessKey is created automatically).");
            }

            var rights = AccessRights.None;
            foreach (var right in requested.Rights ?? [])
            {
                if (!Enum.TryParse<AccessRights>(right, ignoreCase: true, out var parsed) || parsed == AccessRights.None || !Enum.IsDefined(parsed))
                {
                    return Invalid($"Right '{right}' of rule '{name}' is unknown: use Listen, Send or Manage.");
                }

                rights |= parsed;
            }

            if (rights == AccessRights.None)
            {
                return Invalid($"Rule '{name}' needs at least one right (Listen, Send, Manage).");
            }

            if ((rights & AccessRights.Manage) != 0)
            {
                // As in Azure: Manage comes with Listen and Send.
                rights = HybridConnection.AllRights;
            }

            rules.Add(NewRule(name, rights));
        }

        var hybridConnection = new HybridConnection(
            path,
            body.RequiresClientAuthorization ?? true,
            body.HttpModeEnabled ?? true,
            rules,
            timeProvider.GetUtcNow());
        if (!await store.TryCreateAsync(hybridConnection, context.RequestAborted))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Hybrid connection exists", detail: $"A hybrid connection '{path}' already exists.");
        }

        return Results.Created($"{Route}/{path}", ToResponse(hybridConnection, context, hub, options.Value, management));
    }

    public static async Task<IResult> ListAsync(
        HttpContext context, IHybridConnectionStore store, RelayHub hub, IOptions<RelayOptions> options, RelayManagementOptions management)
    {
        var all = await store.ListAsync(context.RequestAborted);
        return Results.Ok(all.Select(h => ToResponse(h, context, hub, options.Value, management)).ToList());
    }

    public static async Task<IResult> GetAsync(
        string path, HttpContext context, IHybridConnectionStore store, RelayHub hub, IOptions<RelayOptions> options, RelayManagementOptions management)
    {
        var hybridConnection = await store.GetAsync(path.Trim('/'), context.RequestAborted);
        return hybridConnection is null
            ? NotFound(path)
            : Results.Ok(ToResponse(hybridConnection, context, hub, options.Value, management));
    }

    public static async Task<IResult> DeleteAsync(string path, HttpContext context, IHybridConnectionStore store, RelayHub hub)
    {
        var trimmed = path.Trim('/');
        if (!await store.DeleteAsync(trimmed, context.RequestAborted))
        {
            return NotFound(path);
        }

        await hub.DisconnectAllAsync(trimmed, WebSocketCloseStatus.EndpointUnavailable, "The hybrid connection was deleted.");
        return Results.NoContent();
    }

    internal static string? ValidatePath(string path)
    {
        if (path.Length is 0 or > MaxPathLength)
        {
            return $"'path' must have 1-{MaxPathLength} characters.";
        }

        foreach (var segment in path.Split('/'))
        {
            if (!SegmentPattern().IsMatch(segment))
            {
                return $"'path' segment '{segment}' is invalid: use letters, digits, '.', '-' and '_', starting and ending with a letter or digit.";
            }
        }

        return null;
    }

    private static HybridConnectionResponse ToResponse(
        HybridConnection hybridConnection, HttpContext context, RelayHub hub, RelayOptions options, RelayManagementOptions management)
    {
        var secrets = management.CanReadSecrets(context);
        var endpoint = $"sb://{options.PublicHostName}:{options.PublicPort}/";
        var rules = hybridConnection.AuthorizationRules
            .Select(r => new AuthorizationRuleResponse(
                r.KeyName,
                RightNames(r.Rights),
                secrets ? r.PrimaryKey : null,
                secrets ? r.SecondaryKey : null))
            .ToList();
        var root = hybridConnection.AuthorizationRules.FirstOrDefault(r => r.KeyName == HybridConnection.DefaultRuleName)
            ?? hybridConnection.AuthorizationRules.FirstOrDefault();
        var connectionString = secrets && root is not null
            ? $"Endpoint={endpoint};SharedAccessKeyName={root.KeyName};SharedAccessKey={root.PrimaryKey};EntityPath={hybridConnection.Path}"
            : null;
        return new HybridConnectionResponse(
            hybridConnection.Path,
            endpoint,
            hybridConnection.RequiresClientAuthorization,
            hybridConnection.HttpModeEnabled,
            hub.ListenerCount(hybridConnection.Path),
            rules,
            connectionString);
    }

    private static List<string> RightNames(AccessRights rights)
    {
        var names = new List<string>(3);
        foreach (var right in new[] { AccessRights.Listen, AccessRights.Send, AccessRights.Manage })
        {
            if ((rights & right) != 0)
            {
                names.Add(right.ToString());
            }
        }

        return names;
    }

    private static AuthorizationRule NewRule(string name, AccessRights rights) =>
        new(name, rights, SharedAccessSignature.GenerateKey(), SharedAccessSignature.GenerateKey());

    private static IResult Invalid(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid hybrid connection", detail: detail);

    private static IResult NotFound(string path) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Hybrid connection not found", detail: $"There is no hybrid connection at '{path}'.");

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?$")]
    private static partial Regex SegmentPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,256}$")]
    private static partial Regex KeyNamePattern();
}
