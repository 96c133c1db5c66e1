using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Causeway.Server.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Request_WithCallerTraceparent_ServerSpanContinuesTheCallersTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CausewayTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                // Other tests' requests run in this process too: keep only this trace.
                if (a.TraceId == traceId)
                {
                    stopped.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await ServerHost.StartAsync();
        using var client = host.Client(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{callerSpan}-01");

        var response = await client.SendAsync(request);
        await Poll.UntilAsync(() => Task.FromResult(!stopped.IsEmpty), TimeSpan.FromSeconds(10), "the server span of the traced request to stop");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(stopped);
        Assert.Equal(callerSpan, span.ParentSpanId);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("GET /health/live", span.DisplayName);
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
    }
}
