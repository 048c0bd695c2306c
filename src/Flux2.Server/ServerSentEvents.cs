using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Flux2.Server;

/// <summary>A <c>text/event-stream</c> answer (server-sent events): each event is an <c>event:</c> line naming it and one
/// <c>data:</c> line of JSON (serialized JSON holds no raw line break), flushed as soon as it is written.</summary>
public static class ServerSentEvents
{
    public static Task StartAsync(HttpResponse response, CancellationToken cancellation)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // a proxy in front must pass each event on at once
        return response.StartAsync(cancellation);
    }

    public static async Task WriteAsync(HttpResponse response, string name, JsonNode data, CancellationToken cancellation)
    {
        await response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", cancellation);
        await response.Body.FlushAsync(cancellation);
    }
}
