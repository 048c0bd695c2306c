using Flux2.Core;

namespace Flux2.Server;

/// <summary>A request the server refuses; becomes an HTTP error with a JSON body naming <see cref="Param"/> (the field at fault).</summary>
public sealed class RequestException(int status, string? param, string message) : Flux2Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The offending field as a JSON path (e.g. <c>provider_options.image.width</c>), form field or header;
    /// null when no single field is at fault.</summary>
    public string? Param { get; } = param;

    /// <summary>For a 503: when the client may retry (the <c>Retry-After</c> header).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static RequestException BadField(string param, string problem) => new(400, param, $"{param}: {problem}");
}
