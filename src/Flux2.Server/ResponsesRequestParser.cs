using System.Text.Json;
using Flux2.Pipelines.Images;
using static Flux2.Server.JsonFields;

namespace Flux2.Server;

/// <summary>
/// Reads the OpenResponses body MAX serves FLUX.2 with (spec §11.1): <c>input</c> is the prompt, or a message array whose
/// first message holds <c>input_text</c> and <c>input_image</c> items (base64 <c>data:</c> URIs; several images are
/// multi-reference editing). <c>provider_options.image</c> takes MAX's fields; where MAX's defaults disagree with this
/// engine, spec §1.2 / §11.2 win: steps default per variant, guidance 4.0 (MAX's 3.5 is only a preset a client may send),
/// output_format png (MAX: jpeg), or jpeg or webp (quality 100). <c>loras</c> (ours) names LoRAs of the server's LoRA folder.
/// Unknown top-level fields are ignored (OpenResponses has many that do not apply to images); unknown image options are errors.
/// </summary>
public static class ResponsesRequestParser
{
    public const int MaxStepsPerRequest = 10_000;
    public const int MaxImagesPerRequest = 16;

    private const string ImageOptions = "provider_options.image";

    private static readonly HashSet<string> Used =
        ["width", "height", "steps", "guidance_scale", "true_cfg_scale", "negative_prompt", "num_images", "output_format", "response_format", "loras"];

    /// <summary>MAX accepts these and FLUX.2 does not use them.</summary>
    private static readonly HashSet<string> Unused =
        ["strength", "cfg_normalization", "cfg_truncation", "flow_shift", "secondary_prompt", "secondary_negative_prompt"];

    /// <param name="uploads">decodes the reference images (at most <see cref="ReferenceUploads.MaxImages"/>; one more is
    /// refused before it is decoded)</param>
    /// <param name="cancellation">the request's: stops a wait for a place to decode an image</param>
    public static async Task<ResponsesRequest> ParseAsync(JsonElement root, ReferenceUploads uploads, CancellationToken cancellation)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new RequestException(400, null, "the request body must be a JSON object");
        var model = OptionalString(root, "model", "model");
        var (prompt, images) = await ParseInputAsync(root.TryGetProperty("input", out var input) ? input
            : throw RequestException.BadField("input", "missing; give the prompt or a message array"), uploads, cancellation);
        if (string.IsNullOrWhiteSpace(prompt)) throw RequestException.BadField("input", "the prompt must not be empty");
        CheckPrompt(prompt, "input");
        var seed = OptionalUInt64(root, "seed", "seed");

        var request = new ResponsesRequest { Model = model, Prompts = [prompt], ReferenceImages = images, Seed = seed };
        if (!root.TryGetProperty("provider_options", out var provider) || provider.ValueKind == JsonValueKind.Null) return request;
        if (provider.ValueKind != JsonValueKind.Object) throw RequestException.BadField("provider_options", "expected an object");
        if (!provider.TryGetProperty("image", out var o) || o.ValueKind == JsonValueKind.Null) return request;
        if (o.ValueKind != JsonValueKind.Object) throw RequestException.BadField(ImageOptions, "expected an object");
        return ParseImageOptions(o, request);
    }

    private static ResponsesRequest ParseImageOptions(JsonElement o, ResponsesRequest request)
    {
        foreach (var property in o.EnumerateObject())
        {
            var name = JsonFields.Text(() => property.Name, ImageOptions);
            if (!Used.Contains(name) && !Unused.Contains(name))
                throw RequestException.BadField($"{ImageOptions}.{name}", "unknown option");
        }
        var output = OutputEncoding.Parse(OptionalString(o, "output_format", $"{ImageOptions}.output_format"), null, $"{ImageOptions}.output_format");
        var responseFormat = OptionalString(o, "response_format", $"{ImageOptions}.response_format") ?? "b64_json";
        if (responseFormat != "b64_json")
            throw RequestException.BadField($"{ImageOptions}.response_format", $"'{responseFormat}' is not supported; use 'b64_json'");
        return request with
        {
            Width = OptionalInt(o, "width", 16, Pipelines.GenerationPlan.MaxSide),
            Height = OptionalInt(o, "height", 16, Pipelines.GenerationPlan.MaxSide),
            Steps = OptionalInt(o, "steps", 1, MaxStepsPerRequest),
            Guidance = OptionalNumber(o, "guidance_scale"),
            TrueCfgScale = OptionalNumber(o, "true_cfg_scale"),
            NegativePrompt = CheckPrompt(OptionalString(o, "negative_prompt", $"{ImageOptions}.negative_prompt"), $"{ImageOptions}.negative_prompt"),
            NumImages = OptionalInt(o, "num_images", 1, MaxImagesPerRequest) ?? 1,
            Output = output,
            Loras = RequestedLora.Parse(JsonFields.OptionalStrings(o, "loras", $"{ImageOptions}.loras", RequestedLora.MaxPerRequest),
                $"{ImageOptions}.loras"),
        };
    }

    /// <summary><paramref name="prompt"/>, refused naming <paramref name="param"/> when the pipeline could not take it (too
    /// long, or a character the images' metadata cannot store).</summary>
    public static string? CheckPrompt(string? prompt, string param) =>
        prompt != null && Pipelines.GenerationPlan.PromptProblem(prompt) is { } problem ? throw RequestException.BadField(param, $"the prompt {problem}") : prompt;

    private static async Task<(string Prompt, IReadOnlyList<ReferenceImage> Images)> ParseInputAsync(JsonElement input, ReferenceUploads uploads,
        CancellationToken cancellation)
    {
        if (input.ValueKind == JsonValueKind.String) return (JsonFields.Text(input, "input"), []);
        if (input.ValueKind != JsonValueKind.Array) throw RequestException.BadField("input", "expected a string (the prompt) or a message array");
        int messages = input.GetArrayLength();
        if (messages != 1) throw RequestException.BadField("input", $"expected one message, got {messages}");
        var message = input[0];
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content))
            throw RequestException.BadField("input[0]", "expected a message object with a 'content' field");
        if (content.ValueKind == JsonValueKind.String) return (JsonFields.Text(content, "input[0].content"), []);
        if (content.ValueKind != JsonValueKind.Array)
            throw RequestException.BadField("input[0].content", "expected a string or an array of input_text / input_image items");
        var texts = new List<string>();
        var images = new List<ReferenceImage>();
        int i = 0;
        foreach (var item in content.EnumerateArray())
        {
            var param = $"input[0].content[{i++}]";
            var type = item.ValueKind == JsonValueKind.Object ? OptionalString(item, "type", $"{param}.type") : null;
            switch (type)
            {
                case "input_text":
                    texts.Add(OptionalString(item, "text", $"{param}.text") ?? throw RequestException.BadField($"{param}.text", "missing"));
                    break;
                case "input_image":
                    if (images.Count == uploads.MaxImages) throw RequestException.BadField(param, $"more than {uploads.MaxImages} reference images");
                    var (bytes, urlParam) = ReadImage(item, param);
                    images.Add(await uploads.DecodeAsync(bytes, urlParam, urlParam, urlParam, cancellation));
                    break;
                default:
                    throw RequestException.BadField($"{param}.type", $"expected 'input_text' or 'input_image', got {(type == null ? "none" : $"'{type}'")}");
            }
        }
        return (string.Join("\n", texts), images);
    }

    /// <summary>The bytes of an <c>input_image</c>'s data URI, and the field it came in: <c>image_url</c> is a string in
    /// OpenResponses; the Chat Completions form <c>{"url": ...}</c> is accepted too.</summary>
    private static (byte[] Bytes, string Param) ReadImage(JsonElement item, string param)
    {
        if (!item.TryGetProperty("image_url", out var url)) throw RequestException.BadField($"{param}.image_url", "missing");
        var urlParam = $"{param}.image_url";
        if (url.ValueKind == JsonValueKind.Object)
        {
            urlParam += ".url";
            url = url.TryGetProperty("url", out var inner) ? inner : throw RequestException.BadField(urlParam, "missing");
        }
        if (url.ValueKind != JsonValueKind.String) throw RequestException.BadField(urlParam, "expected a data: URI string");
        return (DataUri.DecodeBase64(JsonFields.Text(url, urlParam), urlParam), urlParam);
    }

    private static int? OptionalInt(JsonElement o, string name, int min, int max) => JsonFields.OptionalInt(o, name, $"{ImageOptions}.{name}", min, max);

    private static double? OptionalNumber(JsonElement o, string name) => JsonFields.OptionalNumber(o, name, $"{ImageOptions}.{name}");
}
