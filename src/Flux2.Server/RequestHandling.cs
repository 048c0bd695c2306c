using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Flux2.Server;

/// <summary>
/// The life of a generating request, the same on every endpoint: an id, the time limit, cancellation when the client goes
/// away, the limit passes or the server stops (the pipeline stops inside its current op), and every failure answered as a JSON
/// error — or, once an event stream has started, as its last event. Every 503 says when to retry.
/// </summary>
public sealed class RequestHandling(GenerationService service, ImageServerOptions options, CancellationToken stopping)
{
    /// <summary>Requests between arrival and answer (see <see cref="GenerationService.MaxOpenRequests"/>).</summary>
    private int _open;

    /// <param name="idPrefix">starts the request's id, which the log lines carry</param>
    /// <param name="handle">reads the request and answers it, given the id, the cancellation of reading its body (which also
    /// fires at the body time limit) and the request's cancellation</param>
    public async Task RunAsync(HttpContext context, string idPrefix, Func<string, CancellationToken, CancellationToken, Task> handle)
    {
        var id = idPrefix + Guid.NewGuid().ToString("N");
        if (Interlocked.Increment(ref _open) > service.MaxOpenRequests)
        {
            Interlocked.Decrement(ref _open);
            service.Log(id, $"refused (503): {service.MaxOpenRequests} requests are already open");
            context.Response.Headers.Connection = "close"; // the body is not read: the connection cannot carry another request
            await WriteErrorAsync(context, 503, $"the server is busy ({service.MaxOpenRequests} requests are already being read, waiting or generating); retry later", null, null);
            return;
        }
        try
        {
            await HandleAsync(context, id, handle);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task HandleAsync(HttpContext context, string id, Func<string, CancellationToken, CancellationToken, Task> handle)
    {
        using var timeout = new CancellationTokenSource(options.RequestTimeout);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping, timeout.Token);
        // A body trickling in holds one of the few open places; it has a time limit of its own, much shorter than a generation's.
        using var bodyTimeout = new CancellationTokenSource(options.BodyTimeout);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token, bodyTimeout.Token);
        try
        {
            RefuseEncodedBody(context);
            await handle(id, reading.Token, cancellation.Token);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            if (!context.Response.HasStarted) context.Response.StatusCode = 499; // nobody reads it: the client is gone
        }
        catch (RequestException e)
        {
            service.Log(id, $"refused ({e.Status}): {e.Message}");
            await WriteErrorAsync(context, e.Status, e.Message, e.Param, e.RetryAfterSeconds);
        }
        catch (BadHttpRequestException e)
        {
            service.Log(id, $"refused ({e.StatusCode}): {e.Message}");
            await WriteErrorAsync(context, e.StatusCode, e.Message, null, null);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            service.Log(id, "refused (503): the server is shutting down");
            if (!context.Response.HasStarted) context.Response.Headers.Connection = "close";
            await WriteErrorAsync(context, 503, "the server is shutting down; the request was not completed, retry on another server or later", null, null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            var limit = options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            service.Log(id, $"stopped (504): past the {limit}-second time limit");
            await WriteErrorAsync(context, 504, $"the request did not finish within the server's {limit}-second time limit (flux2 serve --request-timeout) and was stopped", null, null);
        }
        catch (OperationCanceledException) when (bodyTimeout.IsCancellationRequested)
        {
            var limit = options.BodyTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            service.Log(id, $"refused (408): the body did not arrive within {limit} seconds");
            context.Response.Headers.Connection = "close"; // the rest of the body is not read
            await WriteErrorAsync(context, 408, $"the request body did not arrive within the server's {limit}-second limit (flux2 serve --body-timeout)", null, null);
        }
        catch (Exception e)
        {
            service.Log(id, $"error: {e.GetType()}: {e.Message}", e.StackTrace);
            await WriteErrorAsync(context, 500, $"internal error: {e.Message}", null, null);
        }
    }

    /// <summary>A compressed body would be read as its compressed bytes: refused as RFC 7694 says, with a 415 that names the
    /// one encoding taken.</summary>
    private static void RefuseEncodedBody(HttpContext context)
    {
        var encoding = context.Request.Headers.ContentEncoding;
        if (encoding.Count == 0 || (encoding.Count == 1 && encoding[0]!.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))) return;
        context.Response.Headers.AcceptEncoding = "identity";
        throw new RequestException(415, "Content-Encoding", $"Content-Encoding: '{encoding}' is not supported; send the body unencoded");
    }

    /// <summary>An OpenAI-style error: the status and a JSON body, or an <c>error</c> event when an event stream has started
    /// (nothing else starts a response early). A 503 carries Retry-After: <paramref name="retryAfterSeconds"/>, or about one
    /// generation's time.</summary>
    public async Task WriteErrorAsync(HttpContext context, int status, string message, string? param, int? retryAfterSeconds)
    {
        var body = ResponsesJson.Error(message, param, status);
        if (context.Response.HasStarted)
        {
            await ServerSentEvents.WriteAsync(context.Response, "error", body, CancellationToken.None);
            return;
        }
        if (status == StatusCodes.Status503ServiceUnavailable)
            context.Response.Headers.RetryAfter = (retryAfterSeconds ?? service.RetryAfterSeconds()).ToString(CultureInfo.InvariantCulture);
        await WriteJsonAsync(context.Response, status, body, CancellationToken.None);
    }

    public static async Task WriteJsonAsync(HttpResponse response, int status, JsonNode body, CancellationToken cancellation)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        await response.WriteAsync(body.ToJsonString(), cancellation);
    }

    /// <summary>Kestrel's word for chunked framing it cannot read, e.g. a chunk size past 2³¹: an IOException with an
    /// OverflowException inside.</summary>
    public static RequestException UnreadableBody(IOException e) => new(400, null, $"the request body cannot be read: {e.Message}");

    /// <exception cref="RequestException">the body is not JSON, or an object in it names a field twice</exception>
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, CancellationToken cancellation)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellation);
        }
        catch (JsonException e)
        {
            throw new RequestException(400, null, $"the request body is not valid JSON ({e.Message})");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            throw UnreadableBody(e);
        }
        try
        {
            JsonFields.RefuseRepeatedNames(document.RootElement, "");
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }
}
