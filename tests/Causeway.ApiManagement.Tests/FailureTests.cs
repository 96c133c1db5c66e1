using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Causeway.ApiManagement.Tests;

/// <summary>Bad input, limits and failing backends through /apim: each gets a clear problem and changes nothing.</summary>
[Collection("apim")]
public sealed class FailureTests(ApimFixture fixture)
{
    private static string Id(JsonElement connection) => connection.GetProperty("id").GetString()!;

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task Call_UnknownConnectionConnectorOrOperation_404WithReason()
    {
        var connection = await fixture.WidgetsConnectionAsync();

        var noConnection = await fixture.Admin.GetAsync($"/apim/widgets/{Guid.NewGuid()}/widgets");
        var wrongConnector = await fixture.Admin.GetAsync($"/apim/open-data/{Id(connection)}/widgets");
        var noOperation = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/gadgets");
        var wrongMethod = await fixture.Admin.DeleteAsync($"/apim/widgets/{Id(connection)}/widgets");

        Assert.Equal(HttpStatusCode.NotFound, noConnection.StatusCode);
        Assert.Contains("was not found", await DetailAsync(noConnection), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, wrongConnector.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noOperation.StatusCode);
        Assert.Contains("has no operation for GET /gadgets", await DetailAsync(noOperation), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task Call_NoOrBadBearerToken_401SayingWhyAndBackendNotCalled()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        var calls = 0;
        fixture.Backend.Respond = context =>
        {
            Interlocked.Increment(ref calls);
            return TestBackend.Ok(context);
        };
        using var anonymous = fixture.Host.Client(null);
        using var forged = fixture.Host.Client("cwt_forged");
        using var basic = fixture.Host.Client(null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "YWRtaW46YWRtaW4=");

        var none = await anonymous.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var unknown = await forged.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var wrongScheme = await basic.GetAsync($"/apim/widgets/{Id(connection)}/widgets");

        foreach (var response in new[] { none, unknown, wrongScheme })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }

        Assert.Equal("A bearer token is required (Authorization: Bearer <token>).", await DetailAsync(none));
        Assert.Equal("The bearer token is not valid.", await DetailAsync(unknown));
        Assert.Equal("The Authorization header must be 'Bearer <token>'.", await DetailAsync(wrongScheme));
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Call_PathThatIsNotACall_404FromThePlatform()
    {
        var connection = await fixture.WidgetsConnectionAsync();

        var notAGuid = await fixture.Admin.GetAsync("/apim/widgets/not-a-connection/widgets");
        var noConnection = await fixture.Admin.GetAsync("/apim/widgets");
        var call = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}");

        Assert.Equal(HttpStatusCode.NotFound, notAGuid.StatusCode);
        Assert.Equal("There is no such resource or endpoint.", await DetailAsync(notAGuid));
        Assert.Equal(HttpStatusCode.NotFound, noConnection.StatusCode);
        Assert.Equal("There is no such resource or endpoint.", await DetailAsync(noConnection));

        // A call with an empty operation path reaches the runtime, which says the connector has no such operation.
        Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
        Assert.Contains("has no operation for GET /", await DetailAsync(call), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_AnotherUsersPrivateConnection_404UntilShared()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        var (userId, token) = await NewUserAsync("bea");
        using var bea = fixture.Host.Client(token);
        fixture.Backend.Respond = TestBackend.Ok;

        var before = await bea.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var hidden = await bea.GetAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");
        var share = await fixture.Admin.PostAsJsonAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}/shares", new { userId });
        var after = await bea.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var listed = await bea.GetFromJsonAsync<JsonElement>($"/api/v1/environments/{fixture.Environment}/connections");
        var beaDelete = await bea.DeleteAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");

        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, share.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Contains(listed.EnumerateArray(), c => Id(c) == Id(connection));
        Assert.Equal(HttpStatusCode.Forbidden, beaDelete.StatusCode);
    }

    [Fact]
    public async Task Call_AfterUnshare_404AtOnce()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        var (userId, token) = await NewUserAsync("cal");
        using var cal = fixture.Host.Client(token);
        fixture.Backend.Respond = TestBackend.Ok;
        (await fixture.Admin.PostAsJsonAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}/shares", new { userId })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await cal.GetAsync($"/apim/widgets/{Id(connection)}/widgets")).StatusCode);

        var unshare = await fixture.Admin.DeleteAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}/shares/{userId}");
        var after = await cal.GetAsync($"/apim/widgets/{Id(connection)}/widgets");

        Assert.Equal(HttpStatusCode.NoContent, unshare.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Call_AnotherTenantsConnection_404Everywhere()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        using var other = fixture.Host.Client(await fixture.Host.CreateTenantAsync($"fabrikam{Guid.NewGuid():N}"[..16]));

        var call = await other.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var get = await other.GetAsync($"/api/v1/environments/{fixture.Environment}/connections/{Id(connection)}");
        var connector = await other.GetAsync("/api/v1/connectors/widgets");

        Assert.Equal(HttpStatusCode.NotFound, call.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, connector.StatusCode);
    }

    [Fact]
    public async Task Call_OverTheLimit_429WithRetryAfter()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Respond = TestBackend.Ok;
        for (var i = 0; i < ApimFixture.WidgetsLimit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets")).StatusCode);
        }

        fixture.Backend.Received.Clear();
        var refused = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets");
        var other = await fixture.WidgetsConnectionAsync();
        var otherConnection = await fixture.Admin.GetAsync($"/apim/widgets/{Id(other)}/widgets");

        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        Assert.Contains($"made {ApimFixture.WidgetsLimit} calls in the last 60 s", await DetailAsync(refused), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherConnection.StatusCode);
        Assert.Single(fixture.Backend.Received);
    }

    [Fact]
    public async Task Call_Backend503ThenOk_IdempotentGetRetried()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        var calls = 0;
        fixture.Backend.Respond = context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 503;
                return Task.CompletedTask;
            }

            return TestBackend.Ok(context);
        };

        var response = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets/7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, fixture.Backend.Received.Count);
    }

    [Fact]
    public async Task Call_Backend503Always_GetTriedOnceThenRetriedTwiceAndLast503Returned()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        var calls = 0;
        fixture.Backend.Respond = context =>
        {
            context.Response.StatusCode = 503;
            context.Response.Headers["X-Attempt"] = Interlocked.Increment(ref calls).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        };

        var response = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/widgets/7");

        // The default ApiManagement:MaxRetries is 2: three attempts in all, the caller gets the third answer.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, fixture.Backend.Received.Count);
        Assert.Equal("3", response.Headers.GetValues("X-Attempt").Single());
    }

    [Fact]
    public async Task Call_Backend503OnPost_NotRetried()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        fixture.Backend.Respond = context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        };
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");

        var response = await fixture.Admin.PostAsync($"/apim/widgets/{Id(connection)}/widgets", content);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Single(fixture.Backend.Received);
    }

    [Fact]
    public async Task Call_SlowBackend_504NamingTheSetting()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Respond = async context =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        };

        var response = await fixture.Admin.GetAsync($"/apim/widgets/{Id(connection)}/slow");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer within 1 s (ApiManagement:BackendTimeoutSeconds)", await DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_BackendUnreachable_502WithReason()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var connection = await fixture.ConnectAsync(fixture.Admin, new { connector = "http", parameters = new { baseUrl = $"http://127.0.0.1:{port}" } });

        var response = await fixture.Admin.GetAsync($"/apim/http/{Id(connection)}/anything");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains($"The backend 127.0.0.1:{port} could not be reached: the connection failed", await DetailAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_BodyOverTheLimit_413AndNoBackendCall()
    {
        var connection = await fixture.WidgetsConnectionAsync();
        fixture.Backend.Received.Clear();
        using var content = new StringContent("{\"x\":\"" + new string('a', 5000) + "\"}", Encoding.UTF8, "application/json");

        var response = await fixture.Admin.PostAsync($"/apim/widgets/{Id(connection)}/widgets", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("ApiManagement:MaxRequestBodyBytes", await DetailAsync(response), StringComparison.Ordinal);
        Assert.Empty(fixture.Backend.Received);
    }

    private async Task<(Guid UserId, string Token)> NewUserAsync(string prefix)
    {
        var user = await (await fixture.Admin.PostAsJsonAsync("/api/v1/users", new { name = $"{prefix}{Guid.NewGuid():N}"[..12] })).Content.ReadFromJsonAsync<JsonElement>();
        var userId = user.GetProperty("id").GetGuid();
        (await fixture.Admin.PutAsJsonAsync($"/api/v1/environments/{fixture.Environment}/roles/{userId}", new { role = "basicUser" })).EnsureSuccessStatusCode();
        var token = await (await fixture.Admin.PostAsJsonAsync("/api/v1/tokens", new { name = "t", userId })).Content.ReadFromJsonAsync<JsonElement>();
        return (userId, token.GetProperty("token").GetString()!);
    }
}
