using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Causeway.Server;

/// <summary>
/// Traces and metrics of the server, wired by hand: one activity and one histogram entry per request. The OTLP exporter
/// runs only when <c>Telemetry:OtlpEndpoint</c> is set.
/// </summary>
internal static class CausewayTelemetry
{
    public const string Name = "Causeway";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Histogram<double> RequestDuration =
        Meter.CreateHistogram<double>("causeway.http.server.request.duration", "s", "Duration of HTTP requests handled by the server.");

    public static IServiceCollection AddCausewayTelemetry(this IServiceCollection services, TelemetryOptions options)
    {
        if (string.IsNullOrEmpty(options.OtlpEndpoint))
        {
            return services;
        }

        var endpoint = new Uri(options.OtlpEndpoint);
        services.AddSingleton(Sdk.CreateTracerProviderBuilder().AddSource(Name).AddOtlpExporter(o => o.Endpoint = endpoint).Build());
        services.AddSingleton(Sdk.CreateMeterProviderBuilder().AddMeter(Name).AddOtlpExporter(o => o.Endpoint = endpoint).Build());
        return services;
    }

    public static IApplicationBuilder UseCausewayTelemetry(this IApplicationBuilder app)
    {
        // Touch the providers so they exist (and export) from the first request on.
        app.ApplicationServices.GetService<TracerProvider>();
        app.ApplicationServices.GetService<MeterProvider>();

        // Without a listener (no exporter, nothing in process) there is nothing to record: the request skips the
        // activity name, the route and the boxed tags, which otherwise cost every request.
        return app.Use(next => context => Source.HasListeners() || RequestDuration.Enabled ? RecordAsync(context, next) : next(context));
    }

    /// <summary>The caller's trace (W3C <c>traceparent</c>/<c>tracestate</c>) that the request's span continues, or none.</summary>
    internal static ActivityContext CallerTrace(IHeaderDictionary headers)
    {
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = ((IHeaderDictionary)carrier!)[name];
        }, out var parent, out var state);
        return parent is not null && ActivityContext.TryParse(parent, state, isRemote: true, out var context) ? context : default;
    }

    private static async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = Source.StartActivity($"{context.Request.Method} request", ActivityKind.Server, CallerTrace(context.Request.Headers));
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            activity?.SetTag("http.request.method", context.Request.Method);
            activity?.SetTag("http.route", route);
            activity?.SetTag("http.response.status_code", context.Response.StatusCode);
            activity?.DisplayName = $"{context.Request.Method} {route}";
            RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("http.request.method", context.Request.Method),
                new KeyValuePair<string, object?>("http.route", route),
                new KeyValuePair<string, object?>("http.response.status_code", context.Response.StatusCode));
        }
    }
}
