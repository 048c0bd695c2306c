using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Flux2.Core.Backend;
using Flux2.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flux2.Server;

/// <summary>
/// The HTTP server of spec §11 on Kestrel: <c>POST /v1/responses</c> (OpenResponses format, as MAX), OpenAI's
/// <c>POST /v1/images/generations</c> and <c>/v1/images/edits</c>, <c>GET /v1/models</c>, <c>GET /metrics</c> (Prometheus)
/// and <c>GET /health</c>. It serves one loaded pipeline, kept for its lifetime with its text encoder. Optional: an API key
/// (required beyond loopback) and CORS for listed browser origins. A request whose client disconnects, or that passes the
/// time limit, stops its generation inside the op it is in; stopping the server answers every open request 503.
/// </summary>
public sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GenerationService _service;
    private readonly ServerMetrics _metrics;
    private readonly PrometheusExporter _exporter;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    /// <summary>The bound address, e.g. <c>http://127.0.0.1:8080/</c> (the real port when 0 was asked for).</summary>
    public Uri BaseAddress
    {
        get
        {
            var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(bound.EndsWith('/') ? bound : bound + "/");
        }
    }

    private ImageServer(WebApplication app, GenerationService service, ServerMetrics metrics, PrometheusExporter exporter)
    {
        _app = app;
        _service = service;
        _metrics = metrics;
        _exporter = exporter;
    }

    /// <summary>Binds and starts serving <paramref name="pipeline"/> (which the caller keeps and disposes after the server).</summary>
    /// <exception cref="ServerStartException">options the server must not run with (<see cref="ImageServerOptions.Check"/>), or the address cannot be bound</exception>
    public static async Task<ImageServer> StartAsync(Flux2Pipeline pipeline, ImageServerOptions options)
    {
        options.Check();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders(); // requests are logged by GenerationService, one line each
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Address, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            RequestHeadLimits.ApplyTo(k.Limits);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IHostLifetime, CallerStoppedLifetime>();
        if (options.CorsOrigins.Count > 0)
            builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
                .WithOrigins([.. options.CorsOrigins])
                .WithMethods("GET", "POST")
                .AllowAnyHeader() // the OpenAI SDKs send headers of their own besides Authorization and Content-Type
                .WithExposedHeaders("Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        var app = builder.Build();
        var metrics = new ServerMetrics();
        if (pipeline.Backend is IDeviceMemoryReport deviceMemory) metrics.ObserveDeviceMemory(deviceMemory);
        var service = new GenerationService(pipeline, options, metrics);
        var server = new ImageServer(app, service, metrics, new PrometheusExporter(metrics.Meter));
        var requests = new RequestHandling(service, options, app.Lifetime.ApplicationStopping);
        var uploads = new ReferenceUploads(options.ImageLimits, options.MaxReferenceImages, options.ConcurrentImageDecodes);
        metrics.ObserveDecodes(uploads.Gate);
        var images = new ImagesEndpoint(service, uploads, requests);

        // Bodies for routing's own 404 and 405 around everything; routing next, so that every later stage knows the endpoint;
        // then counting (refusals counted too), the request line and header limits, CORS (preflights answered before
        // authentication, which browsers do not send on them), the API key, the endpoints.
        app.UseStatusCodePages(RoutingErrors.WriteAsync);
        app.UseRouting();
        app.Use(server.CountAsync);
        app.Use(RequestHeadLimits.InvokeAsync);
        if (options.CorsOrigins.Count > 0) app.UseCors();
        if (options.ApiKey is { } key) app.Use(new ApiKeyAuthentication(key).InvokeAsync);
        app.MapGet("/health", server.Health);
        app.MapGet("/v1/models", server.Models);
        app.MapGet("/metrics", server.Metrics);
        app.MapPost("/v1/responses", (RequestDelegate)new ResponsesEndpoint(service, uploads, requests).HandleAsync);
        app.MapPost("/v1/images/generations", (RequestDelegate)images.GenerationsAsync);
        app.MapPost("/v1/images/edits", (RequestDelegate)images.EditsAsync);
        try
        {
            await app.StartAsync();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // A port in use is an IOException; an address this machine does not have is a bare SocketException.
            await server.DisposeAsync();
            throw new ServerStartException($"cannot listen on {options.Address}:{options.Port} ({e.Message})", e);
        }
        if (!IPAddress.IsLoopback(options.Address) && options.ApiKey == null)
            service.Log("server", $"warning: listening on {options.Address}, not loopback, without an API key (--insecure-no-auth)");
        if (options.Cache != null && pipeline.Variant == PipelineVariant.KleinKv)
            service.Log("server", "warning: klein-kv runs no step cache with reference images: with --cache, edits are refused (400)");
        service.Log("server", $"serving {service.ModelName} ({pipeline.Variant.DisplayName()}) on {server.BaseAddress}" +
            (options.ApiKey != null ? " (API key required)" : "") + (pipeline.MaxBatch > 1 ? $", up to {pipeline.MaxBatch} images per batch" : ""));
        return server;
    }

    /// <summary>Stops the server: it accepts no new connection, the generation in flight is cancelled inside its current op and
    /// every request still open (running or waiting) is answered 503; returns once no generation uses the pipeline any more.
    /// The server does not handle signals itself: its owner calls this (flux2 serve on Ctrl-C or SIGTERM).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(); // cancels a running generation (ApplicationStopping)
        await _app.DisposeAsync();
        await _service.DrainAsync();
        _exporter.Dispose();
        _metrics.Dispose();
    }

    /// <summary>Counts every request by endpoint (its route; "other" for none) and status; 499 when the client went away.</summary>
    private async Task CountAsync(HttpContext context, RequestDelegate next)
    {
        _metrics.RequestStarted();
        int status = StatusCodes.Status500InternalServerError;
        try
        {
            await next(context);
            status = context.RequestAborted.IsCancellationRequested ? 499 : context.Response.StatusCode;
        }
        finally
        {
            _metrics.RequestFinished((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other", status);
        }
    }

    private IResult Health()
    {
        var health = new JsonObject
        {
            ["status"] = "ok",
            ["model"] = _service.ModelName,
            ["variant"] = _service.Variant.DisplayName(),
            ["busy"] = _service.Busy,
            ["device"] = _service.Device,
        };
        if (_service.TextEncoderDevice is { } encoder) health["text_encoder_device"] = encoder;
        if (_service.DeviceMemory is { } memory) health["device_memory"] = DeviceMemoryJson(memory);
        return Results.Json(health);
    }

    /// <summary>A GPU backend's memory in /health, in bytes: held by the models and activations, cached by the allocator for
    /// reuse, the peak held, and the device's free and total memory.</summary>
    public static JsonObject DeviceMemoryJson(DeviceMemoryUse memory) => new()
    {
        ["in_use_bytes"] = memory.InUse,
        ["cached_bytes"] = memory.Cached,
        ["peak_bytes"] = memory.Peak,
        ["free_bytes"] = memory.DeviceFree,
        ["total_bytes"] = memory.DeviceTotal,
    };

    private IResult Models() => Results.Json(new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray(new JsonObject
        {
            ["id"] = _service.ModelName,
            ["object"] = "model",
            ["created"] = _started.ToUnixTimeSeconds(),
            ["owned_by"] = "flux2",
        }),
    });

    private IResult Metrics() => Results.Text(_exporter.Write(), PrometheusExporter.ContentType);
}
