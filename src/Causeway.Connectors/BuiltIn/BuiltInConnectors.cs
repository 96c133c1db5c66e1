namespace Causeway.Connectors;

/// <summary>
/// Connectors defined in code rather than imported: a generic HTTP connector, the environment's own Data API and
/// SQL through an on-premises data gateway. They are written as connector packages and read by the same reader,
/// so they behave exactly like imported ones.
/// </summary>
public static class BuiltInConnectors
{
    /// <summary>Name of the generic HTTP connector.</summary>
    public const string HttpName = "http";
    /// <summary>Name of the environment Data API connector.</summary>
    public const string DataApiName = "dataapi";
    /// <summary>Name of the SQL-through-gateway connector.</summary>
    public const string SqlGatewayName = "sql-gateway";

    private static readonly Lazy<IReadOnlyList<ConnectorDefinition>> Definitions = new(Create);

    /// <summary>Generic HTTP: any URL under the connection's base URL, the user's credentials as an optional Authorization header.</summary>
    public static ConnectorDefinition Http => Definitions.Value[0];

    /// <summary>The environment's own Data API (Dataverse-style Web API), reached inside the platform with the caller's token.</summary>
    public static ConnectorDefinition DataApi => Definitions.Value[1];

    /// <summary>
    /// SQL Server, PostgreSQL or SQLite behind an on-premises data gateway: list tables, query rows (OData $filter, $orderby,
    /// $top, $skip, $select), get, insert, update and delete a row. The database's user name and password are sealed for the
    /// gateway cluster's key when the connection is made; the operations run on the gateway agent.
    /// </summary>
    public static ConnectorDefinition SqlGateway => Definitions.Value[2];

    /// <summary>Every built-in.</summary>
    public static IReadOnlyList<ConnectorDefinition> All => Definitions.Value;

    private static List<ConnectorDefinition> Create()
    {
        var http = ConnectorPackageReader.ReadText(HttpSwagger, HttpProperties, null) with
        {
            Name = HttpName,
            IsBuiltIn = true,
            Classification = new ConnectorClassification(ConnectorNetworkKind.ThirdParty, null,
                "generic HTTP: the connection's base URL may be anywhere on the public internet"),
        };
        var data = ConnectorPackageReader.ReadText(DataApiSwagger, DataApiProperties, null) with
        {
            Name = DataApiName,
            IsBuiltIn = true,
            Classification = new ConnectorClassification(ConnectorNetworkKind.FirstParty, null,
                "the environment's own Data API, served by the platform inside the datacenter"),
        };
        var sql = ConnectorPackageReader.ReadText(SqlSwagger, SqlProperties, null) with
        {
            Name = SqlGatewayName,
            IsBuiltIn = true,
            Classification = new ConnectorClassification(ConnectorNetworkKind.FirstParty, null,
                "published by Microsoft and served through the platform's gateway service; the gateway reaches the database on premises over an outbound connection"),
        };
        return [http, data, sql];
    }

    private const string HttpSwagger = """
    {
      "swagger": "2.0",
      "info": { "title": "HTTP", "description": "Calls any HTTP endpoint under the connection's base URL.", "version": "1.0" },
      "schemes": ["https"],
      "paths": {
        "/{*path}": {
          "parameters": [ { "name": "path", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "single" } ],
          "get": { "operationId": "HttpGet", "summary": "GET", "responses": { "default": { "description": "response" } } },
          "post": { "operationId": "HttpPost", "summary": "POST", "parameters": [ { "name": "body", "in": "body", "schema": {} } ], "responses": { "default": { "description": "response" } } },
          "put": { "operationId": "HttpPut", "summary": "PUT", "parameters": [ { "name": "body", "in": "body", "schema": {} } ], "responses": { "default": { "description": "response" } } },
          "patch": { "operationId": "HttpPatch", "summary": "PATCH", "parameters": [ { "name": "body", "in": "body", "schema": {} } ], "responses": { "default": { "description": "response" } } },
          "delete": { "operationId": "HttpDelete", "summary": "DELETE", "responses": { "default": { "description": "response" } } }
        }
      }
    }
    """;

    private const string HttpProperties = """
    {
      "properties": {
        "connectionParameters": {
          "baseUrl": { "type": "string", "uiDefinition": { "displayName": "Base URL", "constraints": { "required": "true" } } },
          "authorization": { "type": "securestring", "uiDefinition": { "displayName": "Authorization header value", "constraints": { "required": "false" } } }
        },
        "publisher": "Causeway",
        "capabilities": ["actions"],
        "policyTemplateInstances": [
          { "templateId": "dynamichosturl", "title": "Base URL", "parameters": { "x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('baseUrl')" } },
          { "templateId": "setheader", "title": "Authorization", "parameters": {
            "x-ms-apimTemplateParameter.name": "Authorization",
            "x-ms-apimTemplateParameter.value": "@connectionParameters('authorization','')",
            "x-ms-apimTemplateParameter.existsAction": "override",
            "x-ms-apimTemplate-policySection": "Request" } }
        ]
      }
    }
    """;

    private const string DataApiSwagger = """
    {
      "swagger": "2.0",
      "info": { "title": "Data API", "description": "Rows of the environment's tables (Dataverse-style Web API).", "version": "9.2" },
      "schemes": ["https"],
      "basePath": "/api/data/v9.2",
      "securityDefinitions": { "oauth2": { "type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://login.microsoftonline.com/common/oauth2/authorize", "tokenUrl": "https://login.microsoftonline.com/common/oauth2/token" } },
      "paths": {
        "/{entitySet}": {
          "get": { "operationId": "ListRows", "summary": "List rows", "parameters": [
            { "name": "entitySet", "in": "path", "required": true, "type": "string", "x-ms-summary": "Table" },
            { "name": "$select", "in": "query", "type": "string" },
            { "name": "$filter", "in": "query", "type": "string" },
            { "name": "$orderby", "in": "query", "type": "string" },
            { "name": "$top", "in": "query", "type": "integer" },
            { "name": "$expand", "in": "query", "type": "string" } ],
            "responses": { "200": { "description": "rows" } } },
          "post": { "operationId": "CreateRow", "summary": "Add a row", "parameters": [
            { "name": "entitySet", "in": "path", "required": true, "type": "string" },
            { "name": "row", "in": "body", "required": true, "schema": { "type": "object" } } ],
            "responses": { "201": { "description": "created" }, "204": { "description": "created" } } }
        },
        "/{entitySet}({id})": {
          "get": { "operationId": "GetRow", "summary": "Get a row", "parameters": [
            { "name": "entitySet", "in": "path", "required": true, "type": "string" },
            { "name": "id", "in": "path", "required": true, "type": "string" },
            { "name": "$select", "in": "query", "type": "string" } ],
            "responses": { "200": { "description": "row" } } },
          "patch": { "operationId": "UpdateRow", "summary": "Update a row", "parameters": [
            { "name": "entitySet", "in": "path", "required": true, "type": "string" },
            { "name": "id", "in": "path", "required": true, "type": "string" },
            { "name": "row", "in": "body", "required": true, "schema": { "type": "object" } } ],
            "responses": { "204": { "description": "updated" } } },
          "delete": { "operationId": "DeleteRow", "summary": "Delete a row", "parameters": [
            { "name": "entitySet", "in": "path", "required": true, "type": "string" },
            { "name": "id", "in": "path", "required": true, "type": "string" } ],
            "responses": { "204": { "description": "deleted" } } }
        }
      }
    }
    """;

    private const string DataApiProperties = """
    {
      "properties": {
        "connectionParameters": {
          "environmentUrl": { "type": "string", "uiDefinition": { "displayName": "Environment URL", "constraints": { "required": "true" } } },
          "token": { "type": "oauthSetting", "oAuthSettings": { "identityProvider": "aad" } }
        },
        "publisher": "Microsoft",
        "capabilities": ["actions"],
        "policyTemplateInstances": [
          { "templateId": "dynamichosturl", "title": "Environment", "parameters": { "x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('environmentUrl')/api/data/v9.2" } },
          { "templateId": "updatenextlink", "title": "Paging", "parameters": { "x-ms-apimTemplateParameter.nextLinkPropertyName": "@odata.nextLink" } }
        ]
      }
    }
    """;

    private const string SqlSwagger = """
    {
      "swagger": "2.0",
      "info": { "title": "SQL via gateway", "description": "Tables of a database behind an on-premises data gateway.", "version": "1.0" },
      "schemes": ["https"],
      "securityDefinitions": { "basic": { "type": "basic" } },
      "paths": {
        "/v2/datasets/{dataset}/tables": {
          "get": { "operationId": "GetTables", "summary": "Get tables", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" } ],
            "responses": { "200": { "description": "tables" } } }
        },
        "/v2/datasets/{dataset}/tables/{table}/items": {
          "get": { "operationId": "GetItems", "summary": "Get rows", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "$filter", "in": "query", "type": "string", "x-ms-summary": "Filter query" },
            { "name": "$orderby", "in": "query", "type": "string", "x-ms-summary": "Order by" },
            { "name": "$top", "in": "query", "type": "integer", "x-ms-summary": "Top count" },
            { "name": "$skip", "in": "query", "type": "integer", "x-ms-summary": "Skip count" },
            { "name": "$select", "in": "query", "type": "string", "x-ms-summary": "Select query" },
            { "name": "$skiptoken", "in": "query", "type": "string", "x-ms-visibility": "internal" } ],
            "responses": { "200": { "description": "rows" } } },
          "post": { "operationId": "PostItem", "summary": "Insert row", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "item", "in": "body", "required": true, "schema": { "type": "object" } } ],
            "responses": { "201": { "description": "the row as stored" } } }
        },
        "/v2/datasets/{dataset}/tables/{table}": {
          "get": { "operationId": "GetItemsNextPage", "summary": "Next page of rows", "description": "Where @odata.nextLink of Get rows points.", "x-ms-visibility": "internal", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "$filter", "in": "query", "type": "string" },
            { "name": "$orderby", "in": "query", "type": "string" },
            { "name": "$top", "in": "query", "type": "integer" },
            { "name": "$select", "in": "query", "type": "string" },
            { "name": "$skiptoken", "in": "query", "type": "string" } ],
            "responses": { "200": { "description": "rows" } } }
        },
        "/v2/datasets/{dataset}/tables/{table}/items/{id}": {
          "get": { "operationId": "GetItem", "summary": "Get row", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "id", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" } ],
            "responses": { "200": { "description": "row" } } },
          "patch": { "operationId": "PatchItem", "summary": "Update row", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "id", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "item", "in": "body", "required": true, "schema": { "type": "object" } } ],
            "responses": { "200": { "description": "row" } } },
          "delete": { "operationId": "DeleteItem", "summary": "Delete row", "parameters": [
            { "name": "dataset", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "table", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" },
            { "name": "id", "in": "path", "required": true, "type": "string", "x-ms-url-encoding": "double" } ],
            "responses": { "204": { "description": "deleted" } } }
        }
      }
    }
    """;

    private const string SqlProperties = """
    {
      "properties": {
        "connectionParameters": {
          "databaseType": { "type": "string", "allowedValues": [ { "value": "sqlserver" }, { "value": "postgresql" }, { "value": "sqlite" } ], "uiDefinition": { "displayName": "Database type (sqlserver, postgresql or sqlite; default sqlserver)", "constraints": { "required": "false" } } },
          "server": { "type": "string", "uiDefinition": { "displayName": "Server (host, host:port or host,port; for sqlite the database file's path on the gateway machine)", "constraints": { "required": "true" } } },
          "database": { "type": "string", "uiDefinition": { "displayName": "Database name (not for sqlite)", "constraints": { "required": "false" } } },
          "username": { "type": "securestring", "uiDefinition": { "displayName": "Username", "constraints": { "required": "false" } } },
          "password": { "type": "securestring", "uiDefinition": { "displayName": "Password", "constraints": { "required": "false" } } },
          "gateway": { "type": "gatewaySetting", "gatewaySettings": { "dataSourceType": "Sql", "connectionDetails": ["server", "database"] }, "uiDefinition": { "displayName": "Gateway", "constraints": { "required": "true" } } }
        },
        "publisher": "Microsoft",
        "capabilities": ["gateway", "cloud"],
        "policyTemplateInstances": []
      }
    }
    """;
}
