using Microsoft.AspNetCore.Http;

namespace Flux2.Server;

/// <summary><c>POST /v1/responses</c>: text-to-image and editing in the OpenResponses shape MAX serves (spec §11).</summary>
public sealed class ResponsesEndpoint(GenerationService service, ReferenceUploads uploads, RequestHandling requests)
{
    public Task HandleAsync(HttpContext context) => requests.RunAsync(context, "resp_", async (id, reading, cancellation) =>
    {
        ResponsesRequest request;
        using (var body = await RequestHandling.ReadJsonAsync(context.Request, reading))
            request = await ResponsesRequestParser.ParseAsync(body.RootElement, uploads, cancellation);
        var result = await service.GenerateAsync(id, request, cancellation);
        await RequestHandling.WriteJsonAsync(context.Response, StatusCodes.Status200OK,
            ResponsesJson.Response(id, service.ModelName, DateTimeOffset.UtcNow, result, service.Encode(result, request)), cancellation);
    });
}
