using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Causeway.ApiManagement.Tests;

/// <summary>OAuth 2.0 connections end to end against a small OAuth server: consent redirect, code exchange, refresh, client credentials.</summary>
[Collection("apim")]
public sealed class OAuthTests(ApimFixture fixture)
{
    private static string Id(JsonElement connection) => connection.GetProperty("id").GetString()!;

    private async Task<JsonElement> SignInAsync(string connector = "tasks")
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names[connector],
            oauth = new { clientSecret = FakeOAuthServer.ClientSecret },
        });
        Assert.Equal("Unauthenticated", connection.GetProperty("status").GetString());
        var consent = new Uri(connection.GetProperty("consentUrl").GetString()!);

        // The user's browser: the identity provider redirects to the platform's callback, which exchanges the code.
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var redirect = await browser.GetAsync(consent);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        var callback = redirect.Headers.Location!;
        Assert.StartsWith($"{fixture.Host.BaseAddress.ToString().TrimEnd('/')}/apim/oauth/callback?code=", callback.ToString(), StringComparison.Ordinal);
        using var platform = fixture.Host.Client(null);
        var done = await platform.GetAsync(callback);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        return connection;
    }

    [Fact]
    public async Task AuthorizationCode_ConsentAndCallback_ConnectionConnectedAndCallsCarryTheToken()
    {
        var connection = await SignInAsync();
        var after = await fixture.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = context => fixture.OAuth.Authorized(context) ? TestBackend.Ok(context) : Unauthorized(context);

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");

        Assert.Equal("Connected", after.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Backend.Single();
        Assert.Equal("tasks.example.test", received.Host);
        Assert.Equal("/v1/tasks", received.Target);
        Assert.Matches("^Bearer at-[0-9]+$", received.Header("Authorization"));
        var text = after.GetRawText();
        Assert.DoesNotContain("at-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rt-", text, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeOAuthServer.ClientSecret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredAccessToken_RefreshedOnceAndCallRetried()
    {
        var connection = await SignInAsync();
        fixture.Backend.Respond = context => fixture.OAuth.Authorized(context) ? TestBackend.Ok(context) : Unauthorized(context);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks")).StatusCode);
        fixture.Backend.Received.Clear();
        fixture.OAuth.Grants.Clear();
        fixture.OAuth.ExpireAccessTokens();

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["refresh_token"], fixture.OAuth.Grants.ToArray());
        var calls = fixture.Backend.Received.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.NotEqual(calls[0].Header("Authorization"), calls[1].Header("Authorization"));
    }

    [Fact]
    public async Task ExpiredAccessToken_RequestSentByCustomCode_RefreshedOnceAndSentAgain()
    {
        var connection = await SignInAsync("scripted-tasks");
        fixture.Backend.Respond = context => fixture.OAuth.Authorized(context) ? TestBackend.Ok(context) : Unauthorized(context);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted-tasks"]}/{Id(connection)}/tasks")).StatusCode);
        fixture.Backend.Received.Clear();
        fixture.OAuth.Grants.Clear();
        fixture.OAuth.ExpireAccessTokens();

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["scripted-tasks"]}/{Id(connection)}/tasks");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["refresh_token"], fixture.OAuth.Grants.ToArray());
        var calls = fixture.Backend.Received.ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Equal("/v1/tasks", calls[1].Target);
        Assert.NotEqual(calls[0].Header("Authorization"), calls[1].Header("Authorization"));
    }

    [Fact]
    public async Task RefreshRefused_409SaysSignInAgainAndStatusUnauthenticated()
    {
        var connection = await SignInAsync();
        fixture.OAuth.ExpireAccessTokens();
        fixture.OAuth.ValidRefreshTokens.Clear();
        fixture.Backend.Respond = context => fixture.OAuth.Authorized(context) ? TestBackend.Ok(context) : Unauthorized(context);

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");
        var after = await fixture.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");

        // The backend's own 401 is the answer; the connection now says why.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Unauthenticated", after.GetProperty("status").GetString());
        Assert.Contains("invalid_grant", after.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientCredentials_TokenObtainedAtCreation()
    {
        fixture.OAuth.Grants.Clear();
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["tasks"],
            oauth = new { grantType = "client_credentials", clientSecret = FakeOAuthServer.ClientSecret },
        });
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = context => fixture.OAuth.Authorized(context) ? TestBackend.Ok(context) : Unauthorized(context);

        var response = await fixture.Admin.GetAsync($"/apim/{fixture.Names["tasks"]}/{Id(connection)}/tasks");

        Assert.Equal("Connected", connection.GetProperty("status").GetString());
        Assert.Equal(["client_credentials"], fixture.OAuth.Grants.ToArray());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^Bearer at-[0-9]+$", fixture.Backend.Single().Header("Authorization"));
    }

    [Fact]
    public async Task ClientCredentials_WrongSecret_ConnectionInErrorWithReason()
    {
        var connection = await fixture.ConnectAsync(fixture.Admin, new
        {
            connector = fixture.Names["tasks"],
            oauth = new { grantType = "client_credentials", clientSecret = "wrong" },
        });

        Assert.Equal("Unauthenticated", connection.GetProperty("status").GetString());
        Assert.Contains("invalid_client", connection.GetProperty("statusReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Callback_UnknownState_400()
    {
        using var platform = fixture.Host.Client(null);

        var response = await platform.GetAsync("/apim/oauth/callback?code=x&state=forged");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static Task Unauthorized(Microsoft.AspNetCore.Http.HttpContext context)
    {
        context.Response.StatusCode = 401;
        return Task.CompletedTask;
    }
}
