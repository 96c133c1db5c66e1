using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Causeway.Connectors.Tests;

public sealed class PackageReaderTests
{
    internal const string MinimalSwagger = """
        {
          "swagger": "2.0",
          "info": { "title": "Contoso Orders (Preview)", "version": "1.0" },
          "host": "api.contoso.com",
          "basePath": "/v1/",
          "schemes": ["https"],
          "securityDefinitions": { "key": { "type": "apiKey", "in": "header", "name": "X-Key" } },
          "paths": {
            "/orders/{orderId}": {
              "get": {
                "operationId": "GetOrder",
                "x-ms-visibility": "important",
                "parameters": [
                  { "name": "orderId", "in": "path", "required": true, "type": "integer" },
                  { "name": "expand", "in": "query", "type": "boolean", "x-ms-summary": "Expand" },
                  { "name": "region", "in": "query", "required": true, "type": "string", "default": "eu", "x-ms-visibility": "internal" }
                ],
                "responses": { "200": { "description": "ok", "schema": { "type": "object" } } }
              }
            },
            "/orders": {
              "post": {
                "operationId": "CreateOrder",
                "parameters": [ { "name": "body", "in": "body", "required": true, "schema": { "type": "object" } } ],
                "responses": { "201": { "description": "created" } }
              }
            },
            "/files/{path}": {
              "get": {
                "operationId": "GetFile",
                "parameters": [
                  { "name": "path", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
                  { "name": "kind", "in": "query", "type": "string", "x-ms-dynamic-values": { "operationId": "ListKinds", "value-path": "id" } }
                ],
                "responses": { "200": { "description": "ok" } }
              }
            },
            "/trigger": {
              "get": { "operationId": "OnNewOrder", "x-ms-trigger": "batch", "responses": { "200": { "description": "ok" } } }
            }
          }
        }
        """;

    internal const string MinimalProperties = """
        {
          "properties": {
            "connectionParameters": {
              "api_key": { "type": "securestring", "uiDefinition": { "displayName": "API key", "constraints": { "required": "true" } } }
            },
            "iconBrandColor": "#007ee5",
            "capabilities": ["actions", "triggers"],
            "publisher": "Contoso",
            "policyTemplateInstances": [
              { "templateId": "SetHeader", "title": "Client", "parameters": {
                "x-ms-apimTemplateParameter.name": "X-Client",
                "x-ms-apimTemplateParameter.value": "causeway",
                "x-ms-apimTemplateParameter.existsAction": "skip",
                "x-ms-apimTemplate-policySection": "Request" } },
              { "templateId": "pollingtrigger", "title": "poll", "parameters": {
                "x-ms-apimTemplateParameter.triggerConfig": { "since": "@{triggerBody().data[0].created}" },
                "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().data",
                "x-ms-apimTemplate-operationName": ["OnNewOrder"] } }
            ]
          }
        }
        """;

    internal static ConnectorDefinition Minimal(string? properties = null, string? swagger = null, string? script = null) =>
        ConnectorPackageReader.ReadText(swagger ?? MinimalSwagger, properties ?? MinimalProperties, script);

    [Fact]
    public void ReadText_MinimalPackage_ReadsEveryPart()
    {
        var d = Minimal();

        Assert.Equal("contoso-orders-preview", d.Name);
        Assert.Equal("Contoso Orders (Preview)", d.DisplayName);
        Assert.Equal("api.contoso.com", d.Host);
        Assert.Equal("/v1", d.BasePath);
        Assert.Equal(["actions", "triggers"], d.Capabilities);
        Assert.Equal("#007ee5", d.IconBrandColor);
        Assert.False(d.HasScript);
        Assert.Equal(4, d.Operations.Count);

        var get = d.FindOperation("GetOrder")!;
        Assert.Equal("GET", get.Method);
        Assert.Equal("/orders/{orderId}", get.PathTemplate);
        Assert.Equal("important", get.Visibility);
        var region = get.Parameters.Single(p => p.Name == "region");
        Assert.Equal(ParameterLocation.Query, region.In);
        Assert.True(region.Required);
        Assert.Equal("eu", region.Default!.GetValue<string>());
        Assert.Equal("internal", region.Visibility);
        Assert.Equal("Expand", get.Parameters.Single(p => p.Name == "expand").Summary);

        var file = d.FindOperation("GetFile")!;
        Assert.Equal("double", file.Parameters.Single(p => p.Name == "path").UrlEncoding);
        Assert.Equal("ListKinds", file.Parameters.Single(p => p.Name == "kind").DynamicValues!.OperationId);

        var trigger = d.FindOperation("OnNewOrder")!;
        Assert.True(trigger.IsTrigger);
        Assert.Equal("@triggerBody().data", trigger.PollingTrigger!.TriggerDataPath);
        Assert.Equal("@{triggerBody().data[0].created}", trigger.PollingTrigger.TriggerConfig["since"]);

        var key = Assert.Single(d.SecuritySchemes);
        Assert.Equal((SecuritySchemeKind.ApiKey, "header", "X-Key"), (key.Kind, key.In, key.ParameterName));
        var parameter = Assert.Single(d.ConnectionParameters);
        Assert.True(parameter.IsSecret);

        Assert.Equal(["setheader", "pollingtrigger"], d.Policies.Select(p => p.TemplateId));
        Assert.Equal("X-Client", d.Policies[0].Get("name"));
        Assert.Equal(PolicySection.Request, d.Policies[0].Section);
    }

    [Fact]
    public void ReadFolder_ReadZip_ReadRequestBody_GiveTheSameConnector()
    {
        var folder = TestPackages.Folder("Planner");
        var fromFolder = ConnectorPackageReader.ReadFolder(folder);

        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.GetFiles(folder))
            {
                archive.CreateEntryFromFile(file, "Planner/" + Path.GetFileName(file));
            }
        }

        zip.Position = 0;
        var fromZip = ConnectorPackageReader.ReadZip(zip);

        var body = $$"""
            {"apiDefinition": {{File.ReadAllText(Path.Combine(folder, "apiDefinition.swagger.json"))}},
             "apiProperties": {{File.ReadAllText(Path.Combine(folder, "apiProperties.json"))}},
             "script": null}
            """;
        using var doc = JsonDocument.Parse(body);
        var fromJson = ConnectorPackageReader.ReadRequestBody(doc.RootElement);

        foreach (var d in new[] { fromZip, fromJson })
        {
            Assert.Equal(fromFolder.Name, d.Name);
            Assert.Equal(fromFolder.Operations.Select(o => o.OperationId), d.Operations.Select(o => o.OperationId));
            Assert.Equal(fromFolder.Policies.Count, d.Policies.Count);
        }

        Assert.Equal("planner", fromFolder.Name);
    }

    [Theory]
    [InlineData("\"in\": \"query\", \"type\": \"boolean\", \"x-ms-summary\"", "\"in\": \"cookie\", \"type\": \"boolean\", \"x-ms-summary\"",
        "apiDefinition.swagger.json: $.paths['/orders/{orderId}'].get.parameters[1]: 'in' must be one of query, header, path, formData, body")]
    [InlineData("\"swagger\": \"2.0\"", "\"swagger\": \"3.0\"", "apiDefinition.swagger.json: $.swagger: must be \"2.0\" (only OpenAPI 2.0 connector definitions are supported)")]
    [InlineData("\"operationId\": \"CreateOrder\",", "", "apiDefinition.swagger.json: $.paths['/orders'].post.operationId: is required: the platform addresses operations by id")]
    [InlineData("\"operationId\": \"CreateOrder\"", "\"operationId\": \"GetOrder\"", "apiDefinition.swagger.json: $.paths['/orders'].post.operationId: 'GetOrder' is used by another operation")]
    [InlineData("\"/orders/{orderId}\"", "\"/orders/{id}\"", "apiDefinition.swagger.json: $.paths['/orders/{id}'].get.parameters: path parameter 'orderId' does not appear in the path template '/orders/{id}'")]
    [InlineData("\"type\": \"apiKey\", \"in\": \"header\"", "\"type\": \"apiKey\", \"in\": \"cookie\"", "apiDefinition.swagger.json: $.securityDefinitions.key.in: an apiKey definition must say 'in': 'header' or 'query'")]
    [InlineData("\"get\": { \"operationId\": \"OnNewOrder\"", "\"fetch\": { \"operationId\": \"OnNewOrder\"", "apiDefinition.swagger.json: $.paths['/trigger'].fetch: 'fetch' is not an HTTP method; a path item may hold get, put, post, delete, options, head, patch, parameters or x- extensions")]
    public void ReadText_InvalidDefinition_NamesFileAndPath(string find, string replace, string expected)
    {
        var swagger = MinimalSwagger.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(MinimalSwagger, swagger);

        var e = Assert.Throws<ConnectorImportException>(() => Minimal(swagger: swagger));

        Assert.Equal(expected, e.Message);
    }

    [Theory]
    [InlineData("\"templateId\": \"SetHeader\"", "\"templateId\": \"rewriteuri\"", "apiProperties.json: $.properties.policyTemplateInstances[0].templateId: unknown policy template id 'rewriteuri'")]
    [InlineData("\"x-ms-apimTemplate-policySection\": \"Request\"", "\"x-ms-apimTemplate-policySection\": \"Outbound\"", "apiProperties.json: $.properties.policyTemplateInstances[0].parameters['x-ms-apimTemplate-policySection']: must be 'Request' or 'Response'")]
    [InlineData("\"x-ms-apimTemplateParameter.name\": \"X-Client\",", "", "apiProperties.json: $.properties.policyTemplateInstances[0].parameters: template 'setheader' needs parameter 'x-ms-apimTemplateParameter.name'")]
    [InlineData("\"type\": \"securestring\"", "\"type\": \"password\"", "apiProperties.json: $.properties.connectionParameters.api_key.type: must be one of string, securestring, oauthSetting, gatewaySetting, int, bool, object, secureobject, array, clientCertificate")]
    public void ReadText_InvalidProperties_NamesFileAndPath(string find, string replace, string expected)
    {
        var properties = MinimalProperties.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(MinimalProperties, properties);

        var e = Assert.Throws<ConnectorImportException>(() => Minimal(properties));

        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal("apiProperties.json", e.File);
    }

    [Fact]
    public void ReadText_BrokenJson_NamesLineAndPosition()
    {
        var e = Assert.Throws<ConnectorImportException>(() => Minimal(swagger: "{\n  \"swagger\": \"2.0\"\n  \"info\": {}\n}"));

        Assert.Equal("apiDefinition.swagger.json", e.File);
        Assert.Equal("$", e.JsonPath);
        Assert.StartsWith("not valid JSON at line 3, position 3", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadText_LenientJson_AcceptsWhatThePlatformAccepts()
    {
        // Trailing commas, comments, a raw tab in a string, an em space between tokens and a repeated key.
        var swagger = MinimalSwagger
            .Replace("\"version\": \"1.0\" }", "\"version\": \"1.0\", \"x-note\": \"a\tb\", }", StringComparison.Ordinal)
            .Replace("\"host\": \"api.contoso.com\",", "// the host\n\"host\": \"ignored.example\",\u2003\"host\": \"api.contoso.com\",", StringComparison.Ordinal);

        var d = Minimal(swagger: swagger);

        Assert.Equal("api.contoso.com", d.Host);
        Assert.Contains(d.Warnings, w => w.Contains("$.host: duplicate property", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadFolder_MissingDefinition_NamesTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("causeway-connector-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "apiProperties.json"), MinimalProperties);
            var e = Assert.Throws<ConnectorImportException>(() => ConnectorPackageReader.ReadFolder(dir.FullName));
            Assert.Equal("apiDefinition.swagger.json: $: file is missing from the package", e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ReadZip_NotAZip_Throws()
    {
        using var notZip = new MemoryStream(Encoding.UTF8.GetBytes("hello"));
        var e = Assert.Throws<ConnectorImportException>(() => ConnectorPackageReader.ReadZip(notZip));
        Assert.Equal("package.zip: $: not a valid zip archive", e.Message);
    }

    [Fact]
    public void ReadZip_TwoPackages_Throws()
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var folder in new[] { "a", "b" })
            {
                using var writer = new StreamWriter(archive.CreateEntry(folder + "/apiDefinition.swagger.json").Open());
                writer.Write(MinimalSwagger);
            }
        }

        zip.Position = 0;
        var e = Assert.Throws<ConnectorImportException>(() => ConnectorPackageReader.ReadZip(zip));
        Assert.Equal("apiDefinition.swagger.json: $: the zip holds more than one package", e.Message);
    }

    [Fact]
    public void ReadText_PolicyNamingUnknownOperation_ImportsWithWarning()
    {
        var properties = MinimalProperties.Replace("[\"OnNewOrder\"]", "[\"OnNewOrder\", \"Gone\"]", StringComparison.Ordinal);

        var d = Minimal(properties);

        Assert.Contains(d.Warnings, w => w.Contains("'Gone'", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadText_ScriptWithScriptOperations_ServesOnlyThoseByScript()
    {
        var properties = MinimalProperties.Replace("\"publisher\": \"Contoso\",", "\"publisher\": \"Contoso\", \"scriptOperations\": [\"CreateOrder\"],", StringComparison.Ordinal);

        var d = Minimal(properties, script: ScriptSamples.Echo);

        Assert.True(d.HasScript);
        Assert.NotNull(d.CustomCode);
        Assert.True(d.IsServedByScript(d.FindOperation("CreateOrder")!));
        Assert.False(d.IsServedByScript(d.FindOperation("GetOrder")!));
        Assert.All(d.Operations, o => Assert.True(o.Availability.Available));
    }

    [Fact]
    public void ReadText_ScriptWithoutScriptOperations_ServesEveryOperationByScript()
    {
        var d = Minimal(script: ScriptSamples.Echo);

        Assert.All(d.Operations, o => Assert.True(d.IsServedByScript(o)));
    }

    [Fact]
    public void ReadText_GatewayConnectorWithScript_ScriptOperationsUnavailable()
    {
        var properties = MinimalProperties.Replace("\"publisher\": \"Contoso\",", "\"publisher\": \"Contoso\", \"capabilities\": [\"gateway\"], \"scriptOperations\": [\"CreateOrder\"],", StringComparison.Ordinal);

        var d = Minimal(properties, script: ScriptSamples.Echo);

        Assert.False(d.FindOperation("CreateOrder")!.Availability.Available);
        Assert.Contains("does not run for gateway connectors", d.FindOperation("CreateOrder")!.Availability.Reason, StringComparison.Ordinal);
        Assert.True(d.FindOperation("GetOrder")!.Availability.Available);
    }

    [Fact]
    public void ReadText_ScriptThatDoesNotCompile_IsRejectedNamingScriptAndPosition()
    {
        var e = Assert.Throws<ConnectorImportException>(() => Minimal(script: "public class Script : ScriptBase\n{\n    int x = ;\n}"));

        Assert.Equal("script.csx", e.File);
        Assert.Equal("3:13", e.JsonPath);
        Assert.Equal("script.csx: 3:13: does not compile: CS1525: Invalid expression term ';'", e.Message);
    }
}
