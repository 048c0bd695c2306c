using System.Diagnostics;
using System.Globalization;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Lora;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>Runs requests on the one loaded pipeline, one generation at a time: a request arriving while another
/// generates waits its turn (up to <see cref="ImageServerOptions.MaxWaitingRequests"/> may wait). Requests are checked
/// before they queue, so a bad one is refused at once.</summary>
public sealed class GenerationService
{
    /// <summary>What Retry-After says to a refused client before any generation has shown how long one takes.</summary>
    private const int DefaultRetryAfterSeconds = 10;

    private readonly Flux2Pipeline _pipeline;
    private readonly ImageServerOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly TextWriter _log;
    /// <summary>The LoRAs the pipeline was loaded with: every request runs them, before any it names.</summary>
    private readonly IReadOnlyList<LoraFile> _serverLoras;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _waiting;
    private long _lastGenerationTicks;

    public string ModelName { get; }
    public PipelineVariant Variant => _pipeline.Variant;
    public bool Busy => _gate.CurrentCount == 0;

    /// <summary>The backend the pipeline runs on, by name (e.g. "cuda:0 (NVIDIA H200, sm_90, bf16 activations)").</summary>
    public string Device => _pipeline.Backend.Name;

    /// <summary>The device memory of a GPU backend now; null on the CPU.</summary>
    public DeviceMemoryUse? DeviceMemory => _pipeline.Backend is IDeviceMemoryReport report ? report.Memory : null;

    public GenerationService(Flux2Pipeline pipeline, ImageServerOptions options, ServerMetrics metrics)
    {
        _pipeline = pipeline;
        _options = options;
        _metrics = metrics;
        _log = TextWriter.Synchronized(options.Log);
        _serverLoras = pipeline.Loras;
        ModelName = options.ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(pipeline.Source)));
    }

    public void Log(string id, string line) => _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss} [{id}] {line}");

    /// <summary>The model a request names is this one: its name, or a repository id ending in it ("owner/NAME").</summary>
    public bool Serves(string model) =>
        string.Equals(model, ModelName, StringComparison.OrdinalIgnoreCase)
        || model.EndsWith("/" + ModelName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks <paramref name="r"/>, queues it and generates on a pool thread (the caller's thread stays free, e.g.
    /// to stream progress).</summary>
    /// <param name="onStep">called on the generating thread after every denoising step</param>
    /// <exception cref="RequestException">the request is invalid (400), names another model (404) or the queue is full (503)</exception>
    /// <exception cref="OperationCanceledException">the client went away, the time limit passed or the server is stopping</exception>
    public async Task<GenerationResult> GenerateAsync(string id, ResponsesRequest r, CancellationToken cancellation, Action<DenoiseStep>? onStep = null)
    {
        var prepared = Check(id, r);
        var request = prepared.Request;
        if (Interlocked.Increment(ref _waiting) > _options.MaxWaitingRequests + 1)
        {
            Interlocked.Decrement(ref _waiting);
            throw new RequestException(503, null, $"the server is busy ({_options.MaxWaitingRequests} requests are already waiting); retry later")
            {
                RetryAfterSeconds = RetryAfterSeconds(),
            };
        }
        _metrics.QueueChanged(1);
        try
        {
            await _gate.WaitAsync(cancellation);
        }
        catch
        {
            Interlocked.Decrement(ref _waiting);
            throw;
        }
        finally
        {
            _metrics.QueueChanged(-1);
        }
        _metrics.GenerationStarted();
        TimeSpan? completed = null;
        int lastStep = 0;
        var denoised = TimeSpan.Zero; // of the current image
        var clock = Stopwatch.StartNew();
        try
        {
            Log(id, $"generating {(r.ReferenceImages.Count > 0 ? $"with {r.ReferenceImages.Count} reference image(s), " : "")}" +
                $"{(r.Loras.Count > 0 ? $"with LoRAs {string.Join(", ", r.Loras.Select(l => $"{l.Name}:{l.Scale.ToString(CultureInfo.InvariantCulture)}"))}, " : "")}" +
                $"seed {request.Seed}");
            var result = await Task.Run(() => _pipeline.Generate(prepared with
            {
                Request = request with
                {
                    OnStep = s =>
                    {
                        lastStep = s.Step;
                        _metrics.StepDone(s.Elapsed - (s.Step == 1 ? TimeSpan.Zero : denoised));
                        denoised = s.Elapsed;
                        onStep?.Invoke(s);
                    },
                    OnNotice = notice => Log(id, $"note: {notice}"),
                },
            }, cancellation), CancellationToken.None);
            completed = clock.Elapsed;
            Interlocked.Exchange(ref _lastGenerationTicks, completed.Value.Ticks);
            var plan = result.Plan;
            Log(id, $"done: {result.Images.Count} image(s) {plan.Width}x{plan.Height}, {plan.Steps} steps, " +
                $"{clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
            return result;
        }
        catch (OperationCanceledException)
        {
            Log(id, $"cancelled after step {lastStep} ({clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s)");
            throw;
        }
        catch (LoraException e)
        {
            throw new RequestException(400, $"{r.OptionsPath}loras", e.Message);
        }
        catch (Flux2Exception e)
        {
            // The model loaded and worked at start-up: what fails now is what this request asked for.
            throw new RequestException(400, null, e.Message);
        }
        finally
        {
            _metrics.GenerationEnded(completed);
            Interlocked.Decrement(ref _waiting);
            _gate.Release();
        }
    }

    /// <summary>The images of <paramref name="result"/> encoded as <paramref name="r"/> asked; PNGs carry the generation's
    /// text metadata, as the files of <c>flux2 generate</c> do.</summary>
    public IReadOnlyList<byte[]> Encode(GenerationResult result, ResponsesRequest r) =>
        result.Images.Select(image => r.Output.Encode(image.Image, r.Output.Format == OutputFormat.Png
            ? GenerationMetadata.PngText(_pipeline, result.Plan, r.Prompts[image.PromptIndex], r.NegativePrompt, image.Seed, r.ReferenceImages.Select(i => i.Name).ToArray())
            : [])).ToArray();

    /// <summary>A refused client may retry once a queue place frees, that is after about one generation: the last one's time.</summary>
    public int RetryAfterSeconds()
    {
        long ticks = Interlocked.Read(ref _lastGenerationTicks);
        return ticks == 0 ? DefaultRetryAfterSeconds : (int)Math.Clamp(Math.Ceiling(TimeSpan.FromTicks(ticks).TotalSeconds), 1, 3600);
    }

    /// <summary>Validates <paramref name="r"/> against the model and prepares it (the seed filled in, so the images can be
    /// reported with it).</summary>
    private PreparedGeneration Check(string id, ResponsesRequest r)
    {
        if (r.Model != null && !Serves(r.Model))
            throw new RequestException(404, "model", $"model: '{r.Model}' is not served here; this server serves '{ModelName}'");
        if (Variant.TrainedSteps() is int trained && r.Steps is { } steps && steps != trained)
            throw RequestException.BadField($"{r.OptionsPath}steps", $"the distilled klein model runs exactly {trained} steps, got {steps}");
        if (r.Guidance < 1)
            Log(id, $"warning: guidance_scale {r.Guidance} < 1 {(Variant == PipelineVariant.Dev ? "is far below what dev was trained with" : "has no effect")}");
        if (r.TrueCfgScale is { } trueCfg && trueCfg != 1)
            Log(id, "note: true_cfg_scale is not used by FLUX.2; guidance_scale sets klein-base's classifier-free guidance");

        var request = new GenerationRequest
        {
            Prompt = r.Prompts.Count == 1 ? r.Prompts[0] : null,
            Prompts = r.Prompts.Count == 1 ? null : r.Prompts,
            Loras = Loras(r),
            NegativePrompt = r.NegativePrompt,
            Width = r.Width,
            Height = r.Height,
            FloorSizeToMultipleOf16 = true, // spec §11.2: sizes are rounded down to multiples of 16
            Steps = r.Steps,
            Guidance = r.Guidance,
            Seed = r.Seed ?? GenerationPlan.RandomSeed(),
            NumImages = r.NumImages,
            ReferenceImages = r.ReferenceImages,
            MaxReferenceImages = _options.MaxReferenceImages,
            Cache = _options.Cache,
        };
        try
        {
            return _pipeline.Prepare(request);
        }
        catch (Flux2Exception e)
        {
            throw new RequestException(400, e is ImageFileException ? r.ImagesParam : null, e.Message);
        }
    }

    /// <summary>The LoRAs of <paramref name="r"/>: the server's, then those it names; null when it names none (the
    /// pipeline's own).</summary>
    private IReadOnlyList<LoraFile>? Loras(ResponsesRequest r)
    {
        if (r.Loras.Count == 0) return null;
        var folder = _options.LoraFolder ?? throw RequestException.BadField($"{r.OptionsPath}loras",
            "this server takes no LoRAs by request (its operator can start it with --lora-dir FOLDER)");
        return [.. _serverLoras, .. folder.Resolve(r.Loras, $"{r.OptionsPath}loras")];
    }

    /// <summary>Waits for the running generation, if any, to end (a stopping server cancels it inside its current op) and
    /// admits no other, so the pipeline can then be disposed safely.</summary>
    public Task DrainAsync() => _gate.WaitAsync();
}
