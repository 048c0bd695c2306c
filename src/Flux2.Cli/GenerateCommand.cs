using System.Diagnostics;
using System.Globalization;
using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Lora;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Cli;

/// <summary><c>flux2 generate</c>: text-to-image and reference-image editing with a FLUX.2 model (a diffusers folder or a
/// Hugging Face model id), written as PNG, JPEG or WebP files with the generation settings in their metadata.</summary>
/// <param name="backends">makes the backend factory from --threads (this build's backends by default)</param>
/// <param name="memoryBytes">the memory a job must fit in (default: this machine's, as the runtime sees it)</param>
/// <param name="hub">finds Hugging Face model ids (default: the Hub and cache the environment names)</param>
public sealed class GenerateCommand(Func<BackendOptions, IBackendFactory>? backends = null, long? memoryBytes = null, HubModels? hub = null) : ICommand
{
    private readonly Func<BackendOptions, IBackendFactory> _backends = backends ?? ComputeOptions.BuiltIn;
    private readonly long _memoryBytes = memoryBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "generate";
    public string Summary => "generate (or edit) images from a prompt and write PNG, JPEG or WebP files";

    public string Help =>
        $$"""
        Usage: flux2 generate -p PROMPT [-m MODEL | --transformer FILE --vae FILE --text-encoder PATH] [options]

        Generates images with a FLUX.2 model (dev, klein or klein-base) and writes them as PNG, JPEG or WebP files.
        The model is a diffusers folder (model_index.json, transformer/, vae/, text_encoder/, tokenizer/), a
        Hugging Face model id, looked up in the Hugging Face cache and downloaded there when missing (see
        flux2 download for HF_TOKEN, HF_HUB_CACHE and HF_HUB_OFFLINE), or its components as single files.
        Reference images (-i) condition the generation (editing, multi-reference composition).

        Options:
        {{ModelArguments.Help("(default black-forest-labs/FLUX.2-klein-4B)")}}
          -p, --prompt TEXT        the prompt (this or --prompt-file is required)
              --prompt-file FILE   several prompts, one per line (UTF-8, blank lines skipped): -n images each,
                                   written prompt by prompt; image k (from 0) of the run uses seed + k
          -i, --image FILE         reference image (PNG, JPEG, WebP, BMP, GIF, TGA, PSD, HDR); repeat for several.
                                   Images above 1024x1024 pixels are downscaled, then center-cropped to
                                   multiples of 16; sides must be >= 64 px and the aspect ratio <= 8.
              --reference-cap P    downscaling policy: diffusers (1024² each, default) or bfl (2024² for a
                                   single reference)
          -W, --width N            image width in pixels, a multiple of 16 (default: the first reference
                                   image's width, else 1024)
          -H, --height N           image height in pixels, a multiple of 16 (default as for the width)
              --steps N            denoising steps (default: dev 50, klein 4, klein-base 50)
              --allow-any-steps    let the distilled klein model run a step count other than 4
              --guidance G         guidance scale (default 4): embedded guidance for dev, classifier-free
                                   guidance for klein-base (on when G > 1), ignored by distilled klein
              --negative-prompt T  klein-base only: the negative prompt of classifier-free guidance (default "")
              --strict-prompt      reject a prompt longer than 512 tokens (default: keep the first 512, with a note)
              --seed N             noise seed, 0..18446744073709551615 (default: random); image k uses
                                   seed + k. The seed is always printed and stored in the image.
              --cache MODE         none (default), fbcache or taylorseer: faster denoising, slightly different
                                   images; stderr reports how many steps reused the cache. fbcache
                                   (First-Block-Cache) reuses the previous step's prediction while the first
                                   block's output barely changes (experimental for klein); taylorseer
                                   extrapolates the prediction between full steps
              --cache-threshold X  fbcache: relative change below which a step reuses the cache (default 0.05)
              --taylorseer-interval N, --taylorseer-warmup N, --taylorseer-order N
                                   taylorseer: a full step every N steps after a warm-up of N full steps
                                   (defaults 5 and 9); Taylor order 1 or 2 (default 1)
          -n, --num-images N       images to generate (default 1)
              --batch N            denoise up to N of them together as one transformer batch (default 1): more
                                   images per second where one image leaves the device idle (a GPU at small
                                   sizes), N times the activation memory; runs with --cache use 1
          -o, --output PATTERN     output file, .png, .jpg / .jpeg or .webp (default flux2-{seed}.png). {n} is
                                   replaced by the image number (from 1) and {seed} by its seed; with several
                                   images and no {n}, NAME.png becomes NAME-1.png, NAME-2.png, ... The settings
                                   are stored in the file: PNG text chunks, or XMP in JPEG and WebP
              --quality Q          JPEG and WebP quality, 0 (smallest) to 100 (best) (default 90)
              --force              overwrite existing output files (otherwise they are an error)
              --device DEVICE      where to compute: cpu (default) or cuda[:N]
              --text-encoder-device DEVICE
                                   where the text encoder runs (default: --device, or cpu when its weights
                                   would not fit in what the GPU has free): cpu beside --device cuda keeps
                                   them off a GPU too small for all the models
              --precision P        bf16 (default where the processor has AVX512_BF16: operands rounded to bf16,
                                   fp32 sums, about twice as fast; images within a few codes of fp32) or fp32 (exact)
              --threads N          CPU compute threads (default: all processors)
              --lora FILE[:SCALE]  apply a LoRA (diffusers/PEFT, kohya or BFL / ai-toolkit .safetensors; LyCORIS LoHa
                                   and LoKr too) with strength SCALE (default 1, which applies its alpha / rank as
                                   trained); repeat for several. FILE may be a file of a Hugging Face repository,
                                   org/name[@revision]/path or its https://huggingface.co/... address
              --lora-lenient       skip LoRA tensors that adapt no layer of the transformer, with a warning
                                   (default: refuse the file and list them)
              --verbose            print the time of each phase

        Progress goes to stderr: a live bar on a terminal, one line per step otherwise. Each image is
        written as soon as it is decoded, atomically; Ctrl-C or SIGTERM stops within moments, keeping the
        images already written and never leaving a partial file (exit 1); a second Ctrl-C exits at once.

        A prompt's text-encoder output is kept in ~/.cache/flux2/prompts ($XDG_CACHE_HOME/flux2/prompts; the
        FLUX2_PROMPT_CACHE environment variable names another folder, or none when empty; at most 2 GiB, least
        recently used out first), so a prompt used before with the same text encoder skips it.

        Examples:
          flux2 generate -p "a red fox in the snow, golden hour" -W 768 -H 512 --seed 42 -o fox.png
          flux2 generate -m ./FLUX.2-klein-4B -p "the same fox, in watercolour" -i fox.png -o watercolour.png
          flux2 generate --transformer flux-2-klein-4b-fp8.safetensors --vae ae.safetensors \
            --text-encoder qwen_3_4b.safetensors -p "a lighthouse at dusk" -o light.png

        """;

    private static readonly IReadOnlySet<string> Flags = new HashSet<string> { "force", "verbose", "allow-any-steps", "strict-prompt", GenerateLoraOptions.LenientFlag };

    private static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["-m"] = "model", ["-p"] = "prompt", ["-i"] = "image", ["-W"] = "width", ["-H"] = "height", ["-n"] = "num-images", ["-o"] = "output",
    };

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>As <see cref="Run(IReadOnlyList{string}, TextWriter, TextWriter)"/>, also stopping when <paramref name="stop"/>
    /// fires (Ctrl-C and SIGTERM always stop it, see <see cref="StopSignals"/>).</summary>
    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        var o = new CommandArgs(args, Flags, Aliases);
        var model = ModelArguments.Parse(o, ModelArguments.DefaultModel);
        var prompts = Prompts(o.Optional("prompt"), o.Optional("prompt-file"));
        var imageFiles = o.Many("image");
        var referenceCap = o.Optional("reference-cap") switch
        {
            null or "diffusers" => ReferenceCapPolicy.Diffusers,
            "bfl" => ReferenceCapPolicy.Bfl,
            var other => throw new CliException($"option --reference-cap: '{other}' is not one of diffusers, bfl"),
        };
        int? width = o.OptionalInt("width", 16, GenerationPlan.MaxSide);
        int? height = o.OptionalInt("height", 16, GenerationPlan.MaxSide);
        int? steps = o.OptionalInt("steps", 1, 10_000);
        bool anySteps = o.Flag("allow-any-steps");
        double? guidance = o.OptionalDouble("guidance");
        var negativePrompt = CheckPrompt("negative-prompt", o.Optional("negative-prompt"));
        bool strictPrompt = o.Flag("strict-prompt");
        var cache = GenerateCacheOptions.Parse(o);
        ulong seed = ParseSeed(o.Optional("seed"));
        int count = o.OptionalInt("num-images", 1, GenerationPlan.MaxImages) ?? 1;
        int batch = o.OptionalInt("batch", 1, PipelineOptions.MaxBatchLimit) ?? 1;
        var pattern = o.Optional("output") ?? GenerateOutputPaths.DefaultPattern;
        var encoding = GenerateOutputPaths.Encoding(pattern, o.OptionalInt("quality", 0, 100));
        bool force = o.Flag("force");
        var compute = ComputeOptions.Parse(o, _backends);
        var textEncoderDevice = ComputeOptions.TextEncoderDevice(o);
        var loras = GenerateLoraOptions.Parse(o);
        bool verbose = o.Flag("verbose");
        o.EnsureAllUsed(0);
        foreach (var (name, value) in new[] { ("width", width), ("height", height) })
            if (value is int v && v % 16 != 0) throw new CliException($"option --{name}: {value} is not a multiple of 16");

        if (prompts.Count * count > GenerationPlan.MaxImages)
            throw new CliException($"options --prompt-file and --num-images: {prompts.Count} prompts × {count} images exceed the {GenerationPlan.MaxImages} images one run may make");
        var seeds = Enumerable.Range(0, prompts.Count * count).Select(k => unchecked(seed + (ulong)k)).ToArray();
        var paths = GenerateOutputPaths.Expand(pattern, seeds);
        foreach (var path in paths)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (!Directory.Exists(dir)) throw new CliException($"option --output: directory does not exist: {dir}");
            if (Directory.Exists(path)) throw new CliException($"option --output: {path} is a directory");
            if (File.Exists(path) && !force) throw new CliException($"option --output: {path} exists (use --force to overwrite)");
        }
        foreach (var dir in paths.Select(p => Path.GetDirectoryName(Path.GetFullPath(p))!).Distinct()) ProbeWritable(dir);
        var references = imageFiles.Select(ReferenceImage.FromFile).ToArray();

        var config = model.Resolve(_hub, Name, error, stop) with { Devices = [compute.Device], TextEncoderDevice = textEncoderDevice };
        var loraFiles = GenerateLoraOptions.Resolve(loras.Files, _hub, Name, error, stop);
        var clock = Stopwatch.StartNew();
        var promptCache = PromptEmbeddingCache.ForProcess();
        using var pipeline = Flux2Pipeline.Load(config, compute.Backends,
            new PipelineOptions
            {
                ReleaseTextEncoderAfterUse = true,
                // On a GPU the text encoder is gone before the transformer is uploaded: the two never share device memory.
                LoadTransformerAfterEncoding = compute.Device.Kind == DeviceKind.Gpu && (textEncoderDevice ?? compute.Device) == compute.Device,
                Loras = loraFiles, LenientLoraKeys = loras.Lenient, PromptCache = promptCache, MaxBatch = batch,
                // Unless told where, a text encoder too large for what the GPU has free runs on the CPU.
                TextEncoderFallbackDevice = textEncoderDevice == null ? DeviceRef.Cpu() : null,
            });
        var loadTime = clock.Elapsed;
        output.WriteLine(seeds.Length == 1 ? $"seed: {seed}" : $"seeds: {seed} to {seeds[^1]} (one per image)");
        foreach (var warning in pipeline.LoadWarnings) error.WriteLine($"flux2 generate: warning: {warning}");

        var progress = new ProgressReporter(error, ProgressReporter.IsTerminal(error));
        DenoiseStep? lastStep = null;
        // Ctrl-C or SIGTERM stops the generation (inside its current op) instead of killing the process mid-write; a second Ctrl-C kills it.
        using var signals = new StopSignals(stop);
        int written = 0;
        var writeTime = TimeSpan.Zero;
        void WriteImage(GeneratedImage image, GenerationPlan plan)
        {
            var writing = Stopwatch.StartNew();
            var path = paths[image.Index];
            encoding.Write(path, image.Image, GenerationMetadata.Entries(pipeline, plan, prompts[image.PromptIndex], negativePrompt, image.Seed, imageFiles), overwrite: force);
            written++;
            writeTime += writing.Elapsed;
            output.WriteLine($"wrote {path} ({plan.Width}x{plan.Height}, seed {image.Seed})");
            output.Flush();
        }
        GenerationResult result;
        try
        {
            var prepared = pipeline.Prepare(new GenerationRequest
            {
                Prompt = prompts.Count == 1 ? prompts[0] : null,
                Prompts = prompts.Count == 1 ? null : prompts,
                NegativePrompt = negativePrompt,
                Width = width,
                Height = height,
                Steps = steps,
                AllowAnyStepCount = anySteps,
                StrictPromptLength = strictPrompt,
                Guidance = guidance,
                Seed = seed,
                NumImages = count,
                ReferenceImages = references,
                ReferenceCap = referenceCap,
                Cache = cache,
                OnStep = s =>
                {
                    lastStep = s;
                    progress.OnStep(s);
                },
                OnNotice = notice => error.WriteLine($"flux2 generate: note: {notice}"),
                OnImage = WriteImage,
            });
            CheckMemory(pipeline, prepared);
            result = pipeline.Generate(prepared, signals.Token);
        }
        catch (Exception e)
        {
            progress.Interrupt(lastStep);
            if (e is not OperationCanceledException) throw;
            error.WriteLine(written == 0 ? "flux2 generate: cancelled; no image written"
                : $"flux2 generate: cancelled; {written} of {seeds.Length} images written");
            return CliApp.ExitFailure;
        }

        if (verbose)
        {
            var plan = result.Plan;
            var timings = result.Timings;
            long cached = promptCache.Hits, looked = cached + promptCache.Misses;
            output.WriteLine($"timings: load {Seconds(loadTime)}, text encoding {Seconds(timings.TextEncoding)}" +
                (cached > 0 ? $" ({cached} of {looked} prompts from the prompt cache)" : "") + ", " +
                $"reference encoding {Seconds(timings.ReferenceEncoding)}, denoising {Seconds(timings.Denoising)} " +
                $"({Seconds(timings.Denoising / (plan.Steps * result.Images.Count))}/step), decoding {Seconds(timings.Decoding)}, " +
                $"writing {Seconds(writeTime)}");
        }
        return CliApp.ExitOk;
    }

    /// <summary>The images are written only after minutes of work: a folder they cannot be written to is found out now.</summary>
    private static void ProbeWritable(string dir)
    {
        try
        {
            using (File.Create(Path.Combine(dir, $".flux2-write-test-{Guid.NewGuid():N}"), 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"option --output: cannot write to {dir} ({e.Message})");
        }
    }

    /// <summary>Refuses a job whose working memory (besides the memory-mapped weights) exceeds this machine's, before it starts.</summary>
    private void CheckMemory(Flux2Pipeline pipeline, PreparedGeneration prepared)
    {
        long need = pipeline.EstimateWorkingBytes(prepared);
        long have = _memoryBytes;
        if (need > have)
            throw new PipelineException($"a {prepared.Plan.Width}x{prepared.Plan.Height} image needs about {InfoReport.Bytes(need)} of working memory " +
                $"besides the weights, more than the {InfoReport.Bytes(have)} this machine has; choose a smaller size");
    }

    private static IReadOnlyList<string> Prompts(string? prompt, string? promptFile)
    {
        if (prompt != null && promptFile != null) throw new CliException("options --prompt and --prompt-file: give one of them, not both");
        if (promptFile != null) return PromptFile.Read(promptFile);
        if (prompt == null) throw new CliException("missing required option --prompt (or --prompt-file)");
        if (prompt.Length == 0) throw new CliException("option --prompt: the prompt must not be empty");
        return [CheckPrompt("prompt", prompt)!];
    }

    /// <summary><paramref name="prompt"/>, refused before any model loads when the pipeline would refuse it.</summary>
    private static string? CheckPrompt(string option, string? prompt) =>
        prompt != null && GenerationPlan.PromptProblem(prompt) is { } problem ? throw new CliException($"option --{option}: the prompt {problem}") : prompt;

    private static ulong ParseSeed(string? text)
    {
        if (text == null) return GenerationPlan.RandomSeed();
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
            throw new CliException($"option --seed: '{text}' is not an integer in [0, {ulong.MaxValue}]");
        return seed;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
