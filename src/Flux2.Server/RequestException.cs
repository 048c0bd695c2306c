using Flux2.Core;

namespace Flux2.Server;

/// <summary>A request the server refuses; becomes an HTTP error with a JSON body naming <see cref="Param"/> (the field at fault).</summary>
public sealed class RequestException(int status, string? param, string message) : Flux2Exception(Clip(message))
{
    /// <summary>The longest message kept whole. Messages quote what the client sent (a model name, a size, a LoRA name), and
    /// a quoted value of megabytes would make the answer and the log line of every such refusal as large.</summary>
    public const int MaxMessageLength = 1024;

    public int Status { get; } = status;

    /// <summary>The offending field as a JSON path (e.g. <c>provider_options.image.width</c>), form field or header;
    /// null when no single field is at fault.</summary>
    public string? Param { get; } = param;

    /// <summary>For a 503: when the client may retry (the <c>Retry-After</c> header).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static RequestException BadField(string param, string problem) => new(400, param, $"{param}: {problem}");

    /// <summary><paramref name="message"/>, or past <see cref="MaxMessageLength"/> its start (the field and the value's
    /// beginning) and its end (what was expected) around a note of what was left out; never between a surrogate pair.</summary>
    private static string Clip(string message)
    {
        if (message.Length <= MaxMessageLength) return message;
        int head = MaxMessageLength * 5 / 8, tail = MaxMessageLength / 4;
        if (char.IsHighSurrogate(message[head - 1])) head--;
        if (char.IsLowSurrogate(message[^tail])) tail--;
        return $"{message[..head]} [{message.Length - head - tail} characters left out] {message[^tail..]}";
    }
}
