using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Flux2.Server;

/// <summary>
/// OpenAI's image endpoints: <c>POST /v1/images/generations</c> (a JSON body) and <c>POST /v1/images/edits</c> (a multipart
/// upload of the images to edit), answered as OpenAI answers them; with <c>stream: true</c>, as server-sent events instead:
/// a <c>progress</c> event after every denoising step, then one <c>image_generation.completed</c> (or
/// <c>image_edit.completed</c>) event per image, or an <c>error</c> event.
/// </summary>
public sealed class ImagesEndpoint(GenerationService service, ReferenceUploads uploads, RequestHandling requests)
{
    /// <summary>Progress events a slow reader may fall behind by; older ones are dropped (the next one says where it is).</summary>
    private const int ProgressBacklog = 64;

    public Task GenerationsAsync(HttpContext context) => requests.RunAsync(context, "img_", async (id, reading, cancellation) =>
    {
        ImagesRequest request;
        using (var body = await RequestHandling.ReadJsonAsync(context.Request, reading))
            request = ImagesRequestParser.Parse(new JsonRequestFields(body.RootElement), []);
        await AnswerAsync(context, id, request, "image_generation", cancellation);
    });

    public Task EditsAsync(HttpContext context) => requests.RunAsync(context, "img_", async (id, reading, cancellation) =>
    {
        var (fields, images) = await MultipartForm.ReadAsync(context.Request, uploads, reading, cancellation);
        if (images.Count == 0) throw RequestException.BadField("image", "missing: upload the image(s) to edit as 'image' or 'image[]' file parts");
        await AnswerAsync(context, id, ImagesRequestParser.Parse(new FormRequestFields(fields), images), "image_edit", cancellation);
    });

    private async Task AnswerAsync(HttpContext context, string id, ImagesRequest request, string eventPrefix, CancellationToken cancellation)
    {
        var r = request.Generation;
        if (!request.Stream)
        {
            var result = await service.GenerateAsync(id, r, cancellation);
            await RequestHandling.WriteJsonAsync(context.Response, StatusCodes.Status200OK,
                ImagesJson.Response(DateTimeOffset.UtcNow, result, service.Encode(result, r), r.Output), cancellation);
            return;
        }

        // The stream starts with the first step, so that whatever is refused before (a bad request, a full queue) is still
        // answered with its own status code.
        var steps = Channel.CreateBounded<(int Image, int Images, int Step, int Total)>(
            new BoundedChannelOptions(ProgressBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
        var generation = service.GenerateAsync(id, r, cancellation, s => steps.Writer.TryWrite((s.Image, s.Images, s.Step, s.Steps)));
        _ = generation.ContinueWith(finished =>
        {
            _ = finished.Exception; // observed here: writing to a client that went away can end this method before it awaits
            steps.Writer.TryComplete();
        }, TaskScheduler.Default);
        bool started = false;
        await foreach (var (image, images, step, total) in steps.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (!started) await ServerSentEvents.StartAsync(context.Response, cancellation);
            started = true;
            await ServerSentEvents.WriteAsync(context.Response, "progress", ImagesJson.Progress(image, images, step, total), cancellation);
        }
        var generated = await generation;
        if (!started) await ServerSentEvents.StartAsync(context.Response, cancellation);
        var encoded = service.Encode(generated, r);
        var created = DateTimeOffset.UtcNow;
        for (int i = 0; i < encoded.Count; i++)
            await ServerSentEvents.WriteAsync(context.Response, $"{eventPrefix}.completed",
                ImagesJson.Completed($"{eventPrefix}.completed", created, generated, i, encoded[i], r.Output), cancellation);
    }
}
