using System.Globalization;
using System.Text.RegularExpressions;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>
/// Reads the fields of OpenAI's image requests, the JSON body of <c>/v1/images/generations</c> or the form fields of
/// <c>/v1/images/edits</c>: prompt (in JSON also a list of prompts, as diffusers takes them: n images each), n, size
/// (WIDTHxHEIGHT or auto), response_format (b64_json only: the server keeps no files to link to), output_format and
/// output_compression, plus this engine's seed, steps, guidance_scale, negative_prompt and loras as on
/// <c>/v1/responses</c>, and stream. OpenAI options that change nothing here (quality, style, user,
/// moderation, background other than transparent, partial_images, input_fidelity) are accepted; unknown fields are errors.
/// </summary>
public static partial class ImagesRequestParser
{
    private static readonly HashSet<string> Used =
    [
        "model", "prompt", "n", "size", "response_format", "output_format", "output_compression",
        "seed", "steps", "guidance_scale", "negative_prompt", "stream", "loras",
    ];

    private static readonly HashSet<string> Unused = ["quality", "style", "user", "moderation", "background", "partial_images", "input_fidelity"];

    /// <param name="references">the uploaded images to edit (none for a generation)</param>
    public static ImagesRequest Parse(IRequestFields fields, IReadOnlyList<ReferenceImage> references)
    {
        foreach (var name in fields.Names)
            if (!Used.Contains(name) && !Unused.Contains(name)) throw RequestException.BadField(name, "unknown field");
        var prompts = fields.Strings("prompt", ResponsesRequestParser.MaxImagesPerRequest) ?? throw RequestException.BadField("prompt", "missing");
        if (prompts.Count == 0) throw RequestException.BadField("prompt", "the list of prompts must not be empty");
        for (int i = 0; i < prompts.Count; i++)
        {
            var param = prompts.Count == 1 ? "prompt" : $"prompt[{i}]";
            if (string.IsNullOrWhiteSpace(prompts[i])) throw RequestException.BadField(param, "must not be empty");
            ResponsesRequestParser.CheckPrompt(prompts[i], param);
        }
        int perPrompt = fields.Int("n", 1, ResponsesRequestParser.MaxImagesPerRequest) ?? 1;
        if (perPrompt * prompts.Count > ResponsesRequestParser.MaxImagesPerRequest)
            throw RequestException.BadField("n", $"{perPrompt} images for each of {prompts.Count} prompts is more than the " +
                $"{ResponsesRequestParser.MaxImagesPerRequest} images one request may ask for");
        if (fields.String("response_format") is { } responseFormat && responseFormat != "b64_json")
            throw RequestException.BadField("response_format", responseFormat == "url"
                ? "'url' is not supported: the server keeps no files to link to; use 'b64_json' (the default)"
                : $"'{responseFormat}' is not supported; use 'b64_json'");
        if (fields.String("background") is { } background && background is not ("auto" or "opaque"))
            throw RequestException.BadField("background", $"'{background}' is not supported: the images have no alpha channel; use 'auto' or 'opaque'");
        // Unused, but typed all the same: a number where a string belongs is a mistake worth reporting.
        foreach (var name in new[] { "quality", "style", "user", "moderation", "input_fidelity" }) fields.String(name);
        fields.Int("partial_images", 0, 3);

        var (width, height) = Size(fields.String("size"));
        return new ImagesRequest(new ResponsesRequest
        {
            Model = fields.String("model"),
            Prompts = prompts,
            ReferenceImages = references,
            Seed = fields.UInt64("seed"),
            Width = width,
            Height = height,
            Steps = fields.Int("steps", 1, ResponsesRequestParser.MaxStepsPerRequest),
            Guidance = fields.Number("guidance_scale"),
            NegativePrompt = ResponsesRequestParser.CheckPrompt(fields.String("negative_prompt"), "negative_prompt"),
            NumImages = perPrompt,
            Loras = RequestedLora.Parse(fields.Strings("loras", RequestedLora.MaxPerRequest), "loras"),
            Output = OutputEncoding.Parse(fields.String("output_format"), fields.Int("output_compression", 0, 100), "output_format"),
            OptionsPath = "",
            ImagesParam = "image",
            SizeParam = "size",
        }, fields.Bool("stream") ?? false);
    }

    /// <summary>"WIDTHxHEIGHT", or "auto" (or nothing): the engine's default, the first reference's size or 1024².</summary>
    private static (int? Width, int? Height) Size(string? size)
    {
        if (size is null or "auto") return (null, null);
        var match = SizePattern().Match(size);
        if (match.Success
            && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            && int.TryParse(match.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int height)
            && width is >= 16 and <= GenerationPlan.MaxSide && height is >= 16 and <= GenerationPlan.MaxSide)
            return (width, height);
        throw RequestException.BadField("size", $"expected WIDTHxHEIGHT with sides from 16 to {GenerationPlan.MaxSide} (e.g. 1024x768), or 'auto', got '{size}'");
    }

    [GeneratedRegex(@"^([0-9]{1,5})x([0-9]{1,5})\z")] // \z: $ would let a final line feed through
    private static partial Regex SizePattern();
}
