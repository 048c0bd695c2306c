using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Pipelines.Images;

namespace Flux2.Cli.Debug;

/// <summary>
/// <c>debug forward pipeline</c>: the whole sampling pipeline on injected inputs, as in the golden pipe_* cases.
/// Reads inputs.prompt_embeds [P, L, ctx] (+ inputs.text_ids), inputs.noise [B, 128, H/16, W/16] (the initial latents; with
/// P prompts, B/P images each, prompt-major)
/// and inputs.reference_image_uint8.K [h, w, 3] if present. Writes outputs.latents_final [B, L_img, 128],
/// outputs.decoded [B, 3, H, W], outputs.image_uint8 [B, H, W, 3] and, per step I, trace.stepI.noise_pred and
/// trace.stepI.latents_after for single-image inputs (the golden trace names, so 'debug compare' lines them up).
/// </summary>
public sealed class PipelineForward : IForwardComponent
{
    public string Name => "pipeline";

    public string Usage => "--model DIR [--width W --height H] [--steps N] [--guidance G]  (DIR: diffusers folder with transformer/ and vae/)";

    public void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        var model = args.Required("model");
        int? width = args.OptionalInt("width", 1, GenerationPlan.MaxSide);
        int? height = args.OptionalInt("height", 1, GenerationPlan.MaxSide);
        int? steps = args.OptionalInt("steps", 1, 10_000);
        double? guidance = args.OptionalDouble("guidance");
        args.EnsureAllUsed(0);

        var noise = inputs.Get("inputs.noise");
        if (noise.Shape.Length != 4 || noise.Shape[1] != 128)
            throw new Flux2Exception($"{inputs.Path}: 'inputs.noise' must be [B, 128, H/16, W/16], found {noise.Info.ShapeText}");
        int images = (int)noise.Shape[0];
        var references = new List<ReferenceImage>();
        for (int k = 0; inputs.Contains($"inputs.reference_image_uint8.{k}"); k++)
        {
            var image = inputs.Get($"inputs.reference_image_uint8.{k}");
            if (image.DType != DType.UInt8 || image.Shape.Length != 3 || image.Shape[2] != 3)
                throw new Flux2Exception($"{inputs.Path}: 'inputs.reference_image_uint8.{k}' must be UInt8 [h, w, 3], found {image.Info.ShapeText}");
            references.Add(new ReferenceImage($"inputs.reference_image_uint8.{k}",
                new RgbImage((int)image.Shape[1], (int)image.Shape[0], image.AsSpan<byte>().ToArray())));
        }
        // Without a size or a reference, the noise grid decides.
        if (references.Count == 0)
        {
            width ??= 16 * (int)noise.Shape[3];
            height ??= 16 * (int)noise.Shape[2];
        }

        var embeds = inputs.Float32Values("inputs.prompt_embeds", 3);
        var embedsShape = inputs.Shape("inputs.prompt_embeds");
        int prompts = embedsShape[0];
        if (prompts < 1 || images % prompts != 0)
            throw new Flux2Exception($"{inputs.Path}: 'inputs.noise' holds {images} images, not a whole number per prompt of 'inputs.prompt_embeds' " +
                $"[{string.Join(", ", embedsShape)}]");
        var textIds = inputs.Contains("inputs.text_ids") ? inputs.Int64Values("inputs.text_ids", inputs.Get("inputs.text_ids").Shape.Length) : null;
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = model, Devices = [compute.Device] }, compute.Backends);
        using var prompt = PromptEmbedding.Upload(pipeline.Backend, embeds, embedsShape[1], embedsShape[2], textIds);
        var trace = new List<(string Name, Tensor Value)>();
        try
        {
            var result = pipeline.Generate(new GenerationRequest
            {
                PromptEmbedding = prompt,
                Width = width,
                Height = height,
                FloorSizeToMultipleOf16 = true,
                Steps = steps,
                AllowAnyStepCount = true,
                Guidance = guidance,
                NumImages = images / prompts,
                InitialLatents = noise.ToFloat32Array(),
                ReferenceImages = references,
                OnNotice = notice => log.WriteLine($"note: {notice}"),
                OnStep = s =>
                {
                    if (images > 1) return;
                    trace.Add(($"trace.step{s.Step - 1}.noise_pred", s.Backend.DownloadToHost(s.Velocity)));
                    trace.Add(($"trace.step{s.Step - 1}.latents_after", s.Backend.DownloadToHost(s.Latents)));
                },
            });
            var plan = result.Plan;
            log.WriteLine($"{pipeline.Variant.DisplayName()} pipeline: {plan.Width}x{plan.Height}, {plan.Steps} steps, guidance {plan.Guidance}, " +
                $"{references.Count} reference image(s)");
            var all = result.Images;
            using var latents = Tensor.FromArray(all.SelectMany(i => i.Latents).ToArray(), images, plan.ImageTokens, 128);
            using var decoded = Tensor.FromArray(all.SelectMany(i => i.Decoded).ToArray(), images, 3, plan.Height, plan.Width);
            using var rgb = Tensor.FromArray(all.SelectMany(i => i.Image.Pixels).ToArray(), images, plan.Height, plan.Width, 3);
            outputs.Add("outputs.latents_final", latents);
            outputs.Add("outputs.decoded", decoded);
            outputs.Add("outputs.image_uint8", rgb);
            foreach (var (name, value) in trace) outputs.Add(name, value);
        }
        finally
        {
            foreach (var (_, value) in trace) value.Dispose();
        }
    }
}
