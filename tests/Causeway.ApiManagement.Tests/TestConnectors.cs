using System.Text.Json.Nodes;

namespace Causeway.ApiManagement.Tests;

/// <summary>The packages the tests import: three real ones carried in packages/ and three written here for the auth kinds the real ones do not cover.</summary>
internal static class TestConnectors
{
    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "packages", name);

    /// <summary>The REST body of a carried package; its script.csx too when <paramref name="withScript"/>.</summary>
    public static object Carried(string name, bool withScript = false) => Body(
        File.ReadAllText(Path.Combine(Folder(name), "apiDefinition.swagger.json")),
        File.ReadAllText(Path.Combine(Folder(name), "apiProperties.json")),
        withScript ? File.ReadAllText(Path.Combine(Folder(name), "script.csx")) : null);

    /// <summary>API key in the query, a request header from a connection parameter, a response header; the throttled connector.</summary>
    public static object Widgets() => Body("""
        {
          "swagger": "2.0",
          "info": { "title": "Widgets", "version": "1.0" },
          "host": "widgets.example.test",
          "basePath": "/api",
          "schemes": ["https"],
          "securityDefinitions": { "key": { "type": "apiKey", "in": "query", "name": "code" } },
          "paths": {
            "/widgets": {
              "get": { "operationId": "ListWidgets", "parameters": [ { "name": "color", "in": "query", "type": "string" } ], "responses": { "200": { "description": "ok" } } },
              "post": { "operationId": "CreateWidget", "parameters": [ { "name": "body", "in": "body", "required": true, "schema": { "type": "object" } } ], "responses": { "201": { "description": "ok" } } }
            },
            "/widgets/{id}": {
              "get": { "operationId": "GetWidget", "parameters": [ { "name": "id", "in": "path", "required": true, "type": "integer" } ], "responses": { "200": { "description": "ok" } } }
            },
            "/slow": { "get": { "operationId": "Slow", "responses": { "200": { "description": "ok" } } } }
          }
        }
        """, """
        {
          "properties": {
            "connectionParameters": {
              "api_key": { "type": "securestring", "uiDefinition": { "displayName": "Key", "constraints": { "required": "true" } } },
              "tenant": { "type": "string", "uiDefinition": { "displayName": "Tenant", "constraints": { "required": "true" } } }
            },
            "publisher": "Contoso",
            "policyTemplateInstances": [
              { "templateId": "setheader", "title": "Tenant", "parameters": { "x-ms-apimTemplateParameter.name": "X-Tenant", "x-ms-apimTemplateParameter.value": "@connectionParameters('tenant')", "x-ms-apimTemplateParameter.existsAction": "override", "x-ms-apimTemplate-policySection": "Request" } },
              { "templateId": "setheader", "title": "Served by", "parameters": { "x-ms-apimTemplateParameter.name": "X-Served-By", "x-ms-apimTemplateParameter.value": "causeway", "x-ms-apimTemplateParameter.existsAction": "override", "x-ms-apimTemplate-policySection": "Response" } }
            ]
          }
        }
        """);

    /// <summary>No security definition: anonymous.</summary>
    public static object Open() => Body("""
        {
          "swagger": "2.0",
          "info": { "title": "Open Data", "version": "1.0" },
          "host": "open.example.test",
          "schemes": ["https"],
          "paths": { "/status": { "get": { "operationId": "Status", "responses": { "200": { "description": "ok" } } } } }
        }
        """, """{ "properties": { "connectionParameters": {}, "publisher": "Contoso", "policyTemplateInstances": [] } }""");

    /// <summary>OAuth 2.0 against <see cref="FakeOAuthServer"/>, with an updatenextlink response policy.</summary>
    public static object OAuth(string oauthBase, string? script = null) => Body($$"""
        {
          "swagger": "2.0",
          "info": { "title": "{{(script is null ? "Tasks" : "Scripted Tasks")}}", "version": "1.0" },
          "host": "tasks.example.test",
          "basePath": "/v1",
          "schemes": ["https"],
          "securityDefinitions": { "oauth2": { "type": "oauth2", "flow": "accessCode", "authorizationUrl": "{{oauthBase}}/authorize", "tokenUrl": "{{oauthBase}}/token", "scopes": {} } },
          "paths": {
            "/tasks": { "get": { "operationId": "ListTasks", "responses": { "200": { "description": "ok" } } } }
          }
        }
        """, """
        {
          "properties": {
            "connectionParameters": {
              "token": { "type": "oauthSetting", "oAuthSettings": { "identityProvider": "oauth2", "clientId": "causeway-client", "scopes": ["tasks.read"] } }
            },
            "publisher": "Contoso",
            "policyTemplateInstances": [
              { "templateId": "updatenextlink", "title": "Paging", "parameters": { "x-ms-apimTemplateParameter.nextLinkPropertyName": "nextLink" } }
            ]
          }
        }
        """, script);

    /// <summary>Custom code that sends the prepared request as it is and returns the backend's answer.</summary>
    public const string ForwardingScript = """
        public class Script : ScriptBase
        {
            public override Task<HttpResponseMessage> ExecuteAsync() => Context.SendAsync(Context.Request, CancellationToken);
        }
        """;

    /// <summary>The REST body of a package given as its two JSON texts and its script.</summary>
    public static object Body(string definition, string properties, string? script = null) => new
    {
        apiDefinition = JsonNode.Parse(definition),
        apiProperties = JsonNode.Parse(properties),
        script,
    };
}
