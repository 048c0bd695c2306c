using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flux2.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flux2.Server;

/// <summary>
/// The HTTP server of spec §11 on Kestrel: <c>POST /v1/responses</c> (text-to-image and editing, OpenResponses format),
/// <c>GET /health</c> and <c>GET /v1/models</c>. It serves one loaded pipeline, kept for its lifetime with its text encoder.
/// A request whose client disconnects stops its denoising loop at the next step; stopping the server answers every open request 503.
/// </summary>
public sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GenerationService _service;
    private readonly ImageServerOptions _options;
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

    private ImageServer(WebApplication app, GenerationService service, ImageServerOptions options)
    {
        _app = app;
        _service = service;
        _options = options;
    }

    /// <summary>Binds and starts serving <paramref name="pipeline"/> (which the caller keeps and disposes after the server).</summary>
    public static async Task<ImageServer> StartAsync(Flux2Pipeline pipeline, ImageServerOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders(); // requests are logged by GenerationService, one line each
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.Address, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<IHostLifetime, CallerStoppedLifetime>();
        var app = builder.Build();
        var service = new GenerationService(pipeline, options);
        var server = new ImageServer(app, service, options);
        app.MapGet("/health", server.Health);
        app.MapGet("/v1/models", server.Models);
        app.MapPost("/v1/responses", (Func<HttpContext, Task<IResult>>)server.ResponsesAsync);
        try
        {
            await app.StartAsync();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // A port in use is an IOException; an address this machine does not have is a bare SocketException.
            await app.DisposeAsync();
            throw new ServerStartException($"cannot listen on {options.Address}:{options.Port} ({e.Message})", e);
        }
        if (!IPAddress.IsLoopback(options.Address))
            service.Log("server", $"warning: listening on {options.Address}, not loopback; the server has no authentication");
        service.Log("server", $"serving {service.ModelName} ({pipeline.Variant.DisplayName()}) on {server.BaseAddress}");
        return server;
    }

    /// <summary>Stops the server: it accepts no new connection, the generation in flight is cancelled at its next step and
    /// every request still open (running or waiting) is answered 503; returns once no generation uses the pipeline any more.
    /// The server does not handle signals itself: its owner calls this (flux2 serve on Ctrl-C or SIGTERM).</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(); // cancels a running generation (ApplicationStopping)
        await _app.DisposeAsync();
        await _service.DrainAsync();
    }

    private IResult Health() => Results.Json(new JsonObject
    {
        ["status"] = "ok",
        ["model"] = _service.ModelName,
        ["variant"] = _service.Variant.DisplayName(),
        ["busy"] = _service.Busy,
    });

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

    private async Task<IResult> ResponsesAsync(HttpContext context)
    {
        var id = "resp_" + Guid.NewGuid().ToString("N");
        // The client going away or the server stopping cancels the generation.
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _app.Lifetime.ApplicationStopping);
        try
        {
            ResponsesRequest request;
            try
            {
                using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: cancellation.Token);
                request = ResponsesRequestParser.Parse(body.RootElement, _options.ImageLimits);
            }
            catch (JsonException e)
            {
                throw new RequestException(400, null, $"the request body is not valid JSON ({e.Message})");
            }
            var result = await _service.GenerateAsync(id, request, cancellation.Token);
            return Results.Json(ResponsesJson.Response(id, _service.ModelName, DateTimeOffset.UtcNow, result));
        }
        catch (RequestException e)
        {
            _service.Log(id, $"refused ({e.Status}): {e.Message}");
            return Results.Json(ResponsesJson.Error(e.Message, e.Param, e.Status), statusCode: e.Status);
        }
        catch (BadHttpRequestException e)
        {
            _service.Log(id, $"refused ({e.StatusCode}): {e.Message}");
            return Results.Json(ResponsesJson.Error(e.Message, null, e.StatusCode), statusCode: e.StatusCode);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            _service.Log(id, "refused (503): the server is shutting down");
            context.Response.Headers.Connection = "close";
            return Results.Json(ResponsesJson.Error("the server is shutting down; the request was not completed, retry on another server or later",
                null, 503), statusCode: 503);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return Results.StatusCode(499); // nobody reads it: the client is gone
        }
        catch (Exception e)
        {
            _service.Log(id, $"error: {e}");
            return Results.Json(ResponsesJson.Error($"internal error: {e.Message}", null, 500), statusCode: 500);
        }
    }
}
