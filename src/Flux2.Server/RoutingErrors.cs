using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Flux2.Server;

/// <summary>
/// The answers routing gives without a body of its own, a 404 for a path the server does not have and a 405 for a method an
/// endpoint does not take, written as the endpoints write their errors (a JSON error naming what there is), so that a client
/// that reads <c>error.message</c> learns what went wrong.
/// </summary>
public static class RoutingErrors
{
    private const string Endpoints = "POST /v1/responses, POST /v1/images/generations, POST /v1/images/edits, GET /v1/models, GET /health and GET /metrics";

    public static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var request = $"{http.Request.Method} {http.Request.Path}";
        var message = response.StatusCode switch
        {
            StatusCodes.Status404NotFound => $"{request}: no such endpoint; the server has {Endpoints}",
            StatusCodes.Status405MethodNotAllowed => $"{request}: the endpoint takes {response.Headers[HeaderNames.Allow]} only",
            _ => null,
        };
        // Nobody reads an answer to a client that went away; every other status is the endpoints' own.
        if (message == null || http.RequestAborted.IsCancellationRequested) return Task.CompletedTask;
        return RequestHandling.WriteJsonAsync(response, response.StatusCode, ResponsesJson.Error(message, null, response.StatusCode), CancellationToken.None);
    }
}
