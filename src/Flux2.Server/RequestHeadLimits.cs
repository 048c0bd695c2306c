using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flux2.Server;

/// <summary>
/// The limits on a request's line and headers (Kestrel's defaults: 8 KiB, 32 KiB, 100 fields), checked here so that a request
/// past them gets the JSON error every other refusal has; Kestrel answers its own limits with an empty 414 or 431. Kestrel's
/// limits are set above these (<see cref="ApplyTo"/>), so only a request past those (64 KiB) still meets Kestrel's bare answer.
/// </summary>
public static class RequestHeadLimits
{
    public const int MaxRequestLineBytes = 8 * 1024;
    public const int MaxHeaderBytes = 32 * 1024;
    public const int MaxHeaderFields = 100;

    /// <summary>Kestrel's limits, above the server's own.</summary>
    public static void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = 64 * 1024;
        limits.MaxRequestHeadersTotalSize = 64 * 1024;
        limits.MaxRequestHeaderCount = 1000;
    }

    /// <summary>A 414 for a request line past <see cref="MaxRequestLineBytes"/>, a 431 for headers past
    /// <see cref="MaxHeaderBytes"/> or <see cref="MaxHeaderFields"/>; otherwise the next stage.</summary>
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path + request.QueryString;
        // "METHOD target HTTP/1.1" as sent (the target is ASCII on the wire).
        long line = request.Method.Length + 1 + target.Length + 1 + request.Protocol.Length;
        if (line > MaxRequestLineBytes)
            return Refuse(context, StatusCodes.Status414UriTooLong,
                $"the request line is {line} bytes, more than the server's {MaxRequestLineBytes}; send long parameters in the body");
        long bytes = 0;
        int fields = 0;
        foreach (var (name, values) in request.Headers)
            foreach (var value in values)
            {
                fields++;
                bytes += name.Length + 2 + (value?.Length ?? 0) + 2; // "name: value" and its line end
            }
        if (bytes > MaxHeaderBytes || fields > MaxHeaderFields)
            return Refuse(context, StatusCodes.Status431RequestHeaderFieldsTooLarge,
                $"the request has {fields} header fields of {bytes} bytes; the server takes {MaxHeaderFields} fields and {MaxHeaderBytes} bytes at most");
        return next(context);
    }

    private static Task Refuse(HttpContext context, int status, string message)
    {
        // The connection is closed after the answer: what else the client sends on it is not read.
        context.Response.Headers.Connection = "close";
        return RequestHandling.WriteJsonAsync(context.Response, status, ResponsesJson.Error(message, null, status), CancellationToken.None);
    }
}
