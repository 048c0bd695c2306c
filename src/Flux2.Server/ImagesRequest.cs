namespace Flux2.Server;

/// <summary>A parsed <c>POST /v1/images/generations</c> or <c>/v1/images/edits</c> request.</summary>
/// <param name="Stream">answer with server-sent events: progress after every step, then each image</param>
public sealed record ImagesRequest(ResponsesRequest Generation, bool Stream);
