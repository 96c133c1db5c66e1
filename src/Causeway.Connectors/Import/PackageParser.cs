using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Causeway.Connectors;

/// <summary>Validates and converts the parsed package files into a <see cref="ConnectorDefinition"/>.</summary>
internal sealed class PackageParser(JsonObject swagger, JsonObject properties, string? script, List<string> warnings)
{
    private const string Def = ConnectorPackageReader.ApiDefinitionFile;
    private const string Props = ConnectorPackageReader.ApiPropertiesFile;
    private const string TemplateParameterPrefix = "x-ms-apimTemplateParameter.";

    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch"];
    private static readonly string[] Locations = ["query", "header", "path", "formData", "body"];

    private readonly List<string> _warnings = warnings;

    public ConnectorDefinition Parse()
    {
        var version = JsonText.GetString(swagger, "swagger");
        if (version != "2.0")
        {
            Fail(Def, "$.swagger", "must be \"2.0\" (only OpenAPI 2.0 connector definitions are supported)");
        }

        if (swagger["info"] is not JsonObject info)
        {
            throw new ConnectorImportException(Def, "$.info", "is required and must be an object");
        }

        var title = JsonText.GetString(info, "title");
        if (string.IsNullOrWhiteSpace(title))
        {
            Fail(Def, "$.info.title", "is required and must be a non-empty string");
        }

        var host = OptionalString(swagger, "host", "$.host");
        var basePath = NormaliseBasePath(OptionalString(swagger, "basePath", "$.basePath"));
        var schemes = StringArray(swagger["schemes"], Def, "$.schemes") is { Count: > 0 } s ? s : ["https"];
        var securitySchemes = ParseSecurity();

        var propertiesObject = properties["properties"] as JsonObject
            ?? throw new ConnectorImportException(Props, "$.properties", "is required and must be an object");
        var policies = ParsePolicies(propertiesObject);
        var scriptOperations = StringArray(propertiesObject["scriptOperations"], Props, "$.properties.scriptOperations");
        var operations = ParseOperations(policies);

        foreach (var policy in policies)
        {
            foreach (var op in policy.OperationIds.Where(id => operations.All(o => !string.Equals(o.OperationId, id, StringComparison.OrdinalIgnoreCase))))
            {
                _warnings.Add($"{Props}: policy '{policy.TemplateId}' names operation '{op}', which the definition does not have; it never applies there.");
            }
        }

        var connectionParameters = ParseConnectionParameters(propertiesObject["connectionParameters"], "$.properties.connectionParameters");
        var sets = ParseParameterSets(propertiesObject["connectionParameterSets"]);
        var capabilities = StringArray(propertiesObject["capabilities"], Props, "$.properties.capabilities")
            .Select(c => c.Trim().ToLowerInvariant()).ToList();
        var publisher = OptionalString(propertiesObject, "publisher", "$.properties.publisher", Props);
        var color = OptionalString(propertiesObject, "iconBrandColor", "$.properties.iconBrandColor", Props);

        var name = ConnectorNaming.FromTitle(title!);
        // Checked at import (compiled, rules applied, rewritten for its time limit): a script the host would refuse makes
        // the package invalid. Emitting and loading wait for the first call.
        var customCode = script is null ? null : Scripting.ScriptCompiler.Compile(name, script);
        var classification = ConnectorClassifier.Classify(publisher, host, policies);
        var definition = new ConnectorDefinition(
            name, title!.Trim(), JsonText.GetString(info, "description"), JsonText.AsText(info["version"]),
            host, basePath, schemes, operations, securitySchemes, connectionParameters, sets, policies, capabilities,
            publisher, color, script is not null, script, classification, _warnings)
        {
            CustomCode = customCode,
            ScriptOperations = script is null ? [] : scriptOperations,
        };

        // Calls of gateway connectors run on the agent, where custom code does not run (nor does it on Microsoft's host).
        return definition.RequiresGateway && customCode is not null
            ? definition with
            {
                Operations = definition.Operations.Select(o => definition.IsServedByScript(o)
                    ? o with { Availability = new OperationAvailability(false, "served by the package's custom code (script.csx), which does not run for gateway connectors; see docs/connectors.md") }
                    : o).ToList(),
            }
            : definition;
    }

    private static string NormaliseBasePath(string? basePath)
    {
        if (string.IsNullOrWhiteSpace(basePath))
        {
            return "";
        }

        var trimmed = basePath.Trim().TrimEnd('/');
        return trimmed.Length == 0 ? "" : trimmed.StartsWith('/') ? trimmed : "/" + trimmed;
    }

    private List<ConnectorOperation> ParseOperations(List<PolicyTemplateInstance> policies)
    {
        if (swagger["paths"] is not JsonObject paths)
        {
            throw new ConnectorImportException(Def, "$.paths", "is required and must be an object");
        }

        var operations = new List<ConnectorOperation>();
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (pathKey, pathNode) in paths)
        {
            var pathJson = JsonText.Prop("$.paths", pathKey);
            if (pathKey.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            if (!pathKey.StartsWith('/'))
            {
                Fail(Def, pathJson, "a path must start with '/'");
            }

            if (pathNode is not JsonObject pathItem)
            {
                throw new ConnectorImportException(Def, pathJson, "must be an object");
            }

            var shared = pathItem["parameters"] is { } sharedNode
                ? ParseParameters(sharedNode, JsonText.Prop(pathJson, "parameters"))
                : [];
            foreach (var (key, opNode) in pathItem)
            {
                if (key.StartsWith("x-", StringComparison.Ordinal) || key is "parameters" or "$ref")
                {
                    continue;
                }

                var opJson = JsonText.Prop(pathJson, key);
                if (!Methods.Contains(key))
                {
                    Fail(Def, opJson, $"'{key}' is not an HTTP method; a path item may hold {string.Join(", ", Methods)}, parameters or x- extensions");
                }

                if (opNode is not JsonObject op)
                {
                    throw new ConnectorImportException(Def, opJson, "must be an object");
                }

                var operationId = JsonText.GetString(op, "operationId");
                if (string.IsNullOrWhiteSpace(operationId))
                {
                    Fail(Def, JsonText.Prop(opJson, "operationId"), "is required: the platform addresses operations by id");
                }

                if (!ids.Add(operationId!))
                {
                    Fail(Def, JsonText.Prop(opJson, "operationId"), $"'{operationId}' is used by another operation");
                }

                var own = op["parameters"] is { } ownNode ? ParseParameters(ownNode, JsonText.Prop(opJson, "parameters")) : [];

                // Operation parameters override path-item ones with the same name and location (OpenAPI 2.0).
                var merged = shared.Where(p => !own.Any(o => o.In == p.In && o.Name == p.Name)).Concat(own).ToList();
                foreach (var p in merged.Where(p => p.In == ParameterLocation.Path))
                {
                    if (!pathKey.Contains("{" + p.Name + "}", StringComparison.Ordinal) && !pathKey.Contains("{*" + p.Name + "}", StringComparison.Ordinal))
                    {
                        Fail(Def, JsonText.Prop(opJson, "parameters"), $"path parameter '{p.Name}' does not appear in the path template '{pathKey}'");
                    }
                }

                if (merged.Count(p => p.In == ParameterLocation.Body) > 1)
                {
                    Fail(Def, JsonText.Prop(opJson, "parameters"), "an operation may have at most one body parameter");
                }

                var polling = policies.FirstOrDefault(p => p.TemplateId == PolicyTemplateIds.PollingTrigger && p.OperationIds.Contains(operationId!, StringComparer.OrdinalIgnoreCase));
                var availability = OperationAvailability.Ok;
                operations.Add(new ConnectorOperation(
                    operationId!,
                    key.ToUpperInvariant(),
                    pathKey,
                    JsonText.GetString(op, "summary"),
                    merged,
                    ParseResponses(op["responses"], JsonText.Prop(opJson, "responses")),
                    JsonText.GetString(op, "x-ms-visibility"),
                    JsonText.AsText(op["x-ms-trigger"]),
                    JsonText.IsTrue(op["deprecated"]),
                    polling is null ? null : ToPolling(polling),
                    availability));
            }
        }

        return operations;
    }

    private static PollingTriggerConfig ToPolling(PolicyTemplateInstance policy)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (policy.Raw?[TemplateParameterPrefix + "triggerConfig"] is JsonObject o)
        {
            foreach (var (k, v) in o)
            {
                config[k] = JsonText.AsText(v) ?? "";
            }
        }

        return new PollingTriggerConfig(config, policy.Get("triggerDataPath"));
    }

    private List<OperationParameter> ParseParameters(JsonNode node, string json)
    {
        if (node is not JsonArray array)
        {
            throw new ConnectorImportException(Def, json, "must be an array");
        }

        var result = new List<OperationParameter>();
        for (var i = 0; i < array.Count; i++)
        {
            var pJson = JsonText.Index(json, i);
            if (array[i] is not JsonObject p)
            {
                throw new ConnectorImportException(Def, pJson, "must be an object");
            }

            if (JsonText.GetString(p, "$ref") is { } reference)
            {
                const string Prefix = "#/parameters/";
                var target = reference.StartsWith(Prefix, StringComparison.Ordinal)
                    ? (swagger["parameters"] as JsonObject)?[Uri.UnescapeDataString(reference[Prefix.Length..]).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)] as JsonObject
                    : null;
                if (target is null)
                {
                    Fail(Def, JsonText.Prop(pJson, "$ref"), $"'{reference}' does not resolve to an entry of $.parameters");
                }

                pJson = JsonText.Prop("$.parameters", reference[Prefix.Length..]);
                p = target!;
            }

            var name = JsonText.GetString(p, "name");
            if (string.IsNullOrEmpty(name))
            {
                Fail(Def, JsonText.Prop(pJson, "name"), "is required and must be a non-empty string");
            }

            var inText = JsonText.GetString(p, "in");
            var index = Array.IndexOf(Locations, inText);
            if (index < 0)
            {
                Fail(Def, pJson, $"'in' must be one of {string.Join(", ", Locations)}");
            }

            var location = (ParameterLocation)index;
            var encoding = JsonText.GetString(p, "x-ms-url-encoding");
            encoding = string.Equals(encoding, "double", StringComparison.OrdinalIgnoreCase) ? "double" : "single";
            var type = JsonText.GetString(p, "type") ?? (location == ParameterLocation.Body ? "object" : null);
            result.Add(new OperationParameter(
                name!,
                location,
                type,
                JsonText.GetString(p, "format"),
                JsonText.IsTrue(p["required"]) || location == ParameterLocation.Path,
                p["default"]?.DeepClone(),
                p["enum"] is JsonArray e ? e.Select(x => x?.DeepClone()).ToList() : null,
                JsonText.GetString(p, "x-ms-visibility"),
                JsonText.AsText(p["x-ms-summary"]),
                encoding,
                p["schema"]?.DeepClone(),
                Dynamic(p["x-ms-dynamic-values"]),
                Dynamic(p["x-ms-dynamic-schema"] ?? (p["schema"] as JsonObject)?["x-ms-dynamic-schema"])));
        }

        return result;
    }

    private static DynamicReference? Dynamic(JsonNode? node) => node is JsonObject o
        ? new DynamicReference(JsonText.GetString(o, "operationId"), JsonText.GetString(o, "value-path"), o.DeepClone())
        : null;

    private static List<OperationResponse> ParseResponses(JsonNode? node, string json)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject responses)
        {
            throw new ConnectorImportException(Def, json, "must be an object");
        }

        var result = new List<OperationResponse>();
        foreach (var (code, value) in responses)
        {
            if (code.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            var r = value as JsonObject;
            var schema = r?["schema"];
            result.Add(new OperationResponse(code, r is null ? null : JsonText.GetString(r, "description"), schema?.DeepClone(), Dynamic((schema as JsonObject)?["x-ms-dynamic-schema"])));
        }

        return result;
    }

    private List<SecurityScheme> ParseSecurity()
    {
        var result = new List<SecurityScheme>();
        if (swagger["securityDefinitions"] is null)
        {
            return result;
        }

        if (swagger["securityDefinitions"] is not JsonObject defs)
        {
            throw new ConnectorImportException(Def, "$.securityDefinitions", "must be an object");
        }

        foreach (var (id, node) in defs)
        {
            var json = JsonText.Prop("$.securityDefinitions", id);
            if (node is not JsonObject d)
            {
                throw new ConnectorImportException(Def, json, "must be an object");
            }

            var type = JsonText.GetString(d, "type");
            switch (type)
            {
                case "apiKey":
                    var where = JsonText.GetString(d, "in");
                    if (where is not ("header" or "query"))
                    {
                        Fail(Def, JsonText.Prop(json, "in"), "an apiKey definition must say 'in': 'header' or 'query'");
                    }

                    var keyName = JsonText.GetString(d, "name");
                    if (string.IsNullOrWhiteSpace(keyName))
                    {
                        Fail(Def, JsonText.Prop(json, "name"), "an apiKey definition must name its header or query parameter");
                    }

                    result.Add(new SecurityScheme(id, SecuritySchemeKind.ApiKey, where, keyName, null, null, null));
                    break;
                case "basic":
                    result.Add(new SecurityScheme(id, SecuritySchemeKind.Basic, null, null, null, null, null));
                    break;
                case "oauth2":
                    result.Add(new SecurityScheme(id, SecuritySchemeKind.OAuth2, null, null, JsonText.GetString(d, "flow"), JsonText.GetString(d, "authorizationUrl"), JsonText.GetString(d, "tokenUrl")));
                    break;
                default:
                    Fail(Def, JsonText.Prop(json, "type"), "must be one of apiKey, basic, oauth2");
                    break;
            }
        }

        return result;
    }

    private List<PolicyTemplateInstance> ParsePolicies(JsonObject props)
    {
        var result = new List<PolicyTemplateInstance>();
        var node = props["policyTemplateInstances"];
        if (node is null)
        {
            return result;
        }

        const string Json = "$.properties.policyTemplateInstances";
        if (node is not JsonArray array)
        {
            throw new ConnectorImportException(Props, Json, "must be an array");
        }

        for (var i = 0; i < array.Count; i++)
        {
            var json = JsonText.Index(Json, i);
            if (array[i] is not JsonObject p)
            {
                throw new ConnectorImportException(Props, json, "must be an object");
            }

            var id = JsonText.GetString(p, "templateId")?.Trim().ToLowerInvariant();
            if (string.IsNullOrEmpty(id))
            {
                Fail(Props, JsonText.Prop(json, "templateId"), "is required");
            }

            if (!PolicyTemplateIds.All.Contains(id!))
            {
                Fail(Props, JsonText.Prop(json, "templateId"), $"unknown policy template id '{JsonText.GetString(p, "templateId")}'; known: {string.Join(", ", PolicyTemplateIds.All.Order(StringComparer.Ordinal))}");
            }

            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var section = PolicyTemplateIds.DefaultSection(id!);
            var operations = new List<string>();
            var raw = p["parameters"] as JsonObject;
            if (p["parameters"] is not null and not JsonObject)
            {
                Fail(Props, JsonText.Prop(json, "parameters"), "must be an object");
            }

            foreach (var (key, value) in raw ?? [])
            {
                var keyJson = JsonText.Prop(JsonText.Prop(json, "parameters"), key);
                if (key.StartsWith(TemplateParameterPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    parameters[key[TemplateParameterPrefix.Length..]] = JsonText.AsText(value) ?? "";
                }
                else if (string.Equals(key, "x-ms-apimTemplate-policySection", StringComparison.OrdinalIgnoreCase))
                {
                    var text = JsonText.AsText(value);
                    if (!Enum.TryParse(text, ignoreCase: true, out section) || !Enum.IsDefined(section))
                    {
                        Fail(Props, keyJson, "must be 'Request' or 'Response'");
                    }
                }
                else if (string.Equals(key, "x-ms-apimTemplate-operationName", StringComparison.OrdinalIgnoreCase))
                {
                    operations = StringArray(value, Props, keyJson);
                }
            }

            RequireParameters(id!, parameters, JsonText.Prop(json, "parameters"));
            result.Add(new PolicyTemplateInstance(id!, JsonText.GetString(p, "title"), section, operations, parameters) { Raw = raw?.DeepClone().AsObject() });
        }

        return result;
    }

    // Parameters without which a template cannot do anything: reported at import rather than at call time.
    private static void RequireParameters(string templateId, Dictionary<string, string> parameters, string json)
    {
        string[] required = templateId switch
        {
            PolicyTemplateIds.SetHeader or PolicyTemplateIds.SetQueryParameter => ["name"],
            PolicyTemplateIds.DynamicHostUrl or PolicyTemplateIds.DynamicSubdomain => ["urlTemplate"],
            PolicyTemplateIds.RouteRequestToEndpoint => ["newPath"],
            PolicyTemplateIds.SetProperty => ["newPropertyParentPathTemplate", "newPropertySubPathTemplate"],
            PolicyTemplateIds.UpdateNextLink => ["nextLinkPropertyName"],
            PolicyTemplateIds.StringReplace => ["propertyParentPath", "propertySubPath", "sourceString"],
            PolicyTemplateIds.ConvertObjectToArray or PolicyTemplateIds.ConvertArrayToObject or PolicyTemplateIds.StringToArray or PolicyTemplateIds.EncodePropertyValue
                => ["propertyParentPath", "propertySubPath"],
            PolicyTemplateIds.SetValueFromUrl => ["parameterTemplate", "parameterValueUrl", "parameterValuePathTemplate"],
            PolicyTemplateIds.MoveProperties => ["srcParentPath", "dstParentPath"],
            _ => [],
        };
        foreach (var name in required.Where(n => !parameters.ContainsKey(n)))
        {
            Fail(Props, json, $"template '{templateId}' needs parameter '{TemplateParameterPrefix}{name}'");
        }
    }

    private List<ConnectionParameter> ParseConnectionParameters(JsonNode? node, string json)
    {
        var result = new List<ConnectionParameter>();
        if (node is null)
        {
            return result;
        }

        if (node is not JsonObject obj)
        {
            throw new ConnectorImportException(Props, json, "must be an object");
        }

        foreach (var (name, value) in obj)
        {
            var pJson = JsonText.Prop(json, name);
            if (value is not JsonObject p)
            {
                throw new ConnectorImportException(Props, pJson, "must be an object");
            }

            var typeText = JsonText.GetString(p, "type");
            var type = typeText?.ToLowerInvariant() switch
            {
                "string" => ConnectionParameterType.String,
                "securestring" => ConnectionParameterType.SecureString,
                "oauthsetting" => ConnectionParameterType.OAuthSetting,
                "gatewaysetting" => ConnectionParameterType.GatewaySetting,
                "int" => ConnectionParameterType.Int,
                "bool" => ConnectionParameterType.Bool,
                "object" => ConnectionParameterType.Object,
                "secureobject" => ConnectionParameterType.SecureObject,
                "array" => ConnectionParameterType.Array,
                "clientcertificate" => ConnectionParameterType.ClientCertificate,
                _ => (ConnectionParameterType?)null,
            };
            if (type is null)
            {
                Fail(Props, JsonText.Prop(pJson, "type"), "must be one of string, securestring, oauthSetting, gatewaySetting, int, bool, object, secureobject, array, clientCertificate");
            }

            var ui = p["uiDefinition"] as JsonObject;
            result.Add(new ConnectionParameter(
                name,
                type!.Value,
                ui is null ? null : JsonText.GetString(ui, "displayName"),
                ui is null ? null : JsonText.GetString(ui, "description"),
                JsonText.IsTrue((ui?["constraints"] as JsonObject)?["required"]),
                p.DeepClone()));
        }

        return result;
    }

    private List<ConnectionParameterSet> ParseParameterSets(JsonNode? node)
    {
        const string Json = "$.properties.connectionParameterSets";
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject obj || obj["values"] is not JsonArray values)
        {
            throw new ConnectorImportException(Props, Json, "must be an object with a 'values' array");
        }

        var result = new List<ConnectionParameterSet>();
        for (var i = 0; i < values.Count; i++)
        {
            var json = JsonText.Index(JsonText.Prop(Json, "values"), i);
            if (values[i] is not JsonObject set)
            {
                throw new ConnectorImportException(Props, json, "must be an object");
            }

            var name = JsonText.GetString(set, "name");
            if (string.IsNullOrWhiteSpace(name))
            {
                Fail(Props, JsonText.Prop(json, "name"), "is required");
            }

            var ui = set["uiDefinition"] as JsonObject;
            result.Add(new ConnectionParameterSet(name!, ui is null ? null : JsonText.GetString(ui, "displayName"), ParseConnectionParameters(set["parameters"], JsonText.Prop(json, "parameters"))));
        }

        return result;
    }

    private static string? OptionalString(JsonObject obj, string name, string json, string file = Def)
    {
        var node = obj[name];
        return node switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => throw new ConnectorImportException(file, json, "must be a string"),
        };
    }

    private static List<string> StringArray(JsonNode? node, string file, string json)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw new ConnectorImportException(file, json, "must be an array of strings");
        }

        var result = new List<string>();
        for (var i = 0; i < array.Count; i++)
        {
            result.Add(array[i] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw new ConnectorImportException(file, JsonText.Index(json, i), "must be a string"));
        }

        return result;
    }

    [DoesNotReturn]
    private static void Fail(string file, string json, string problem) => throw new ConnectorImportException(file, json, problem);
}
