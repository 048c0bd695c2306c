using System.Diagnostics;
using System.Globalization;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Lora;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>Runs requests on the one loaded pipeline, one generation at a time: a request arriving while another
/// generates waits its turn (up to <see cref="ImageServerOptions.MaxWaitingRequests"/> may wait). With a pipeline batch
/// above 1 (<see cref="PipelineOptions.MaxBatch"/>), the next generation takes the oldest waiting request together with
/// the waiting requests that can share its batch, up to that many images. Requests are checked before they queue, so a bad
/// one is refused at once.</summary>
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
    /// <summary>Guards the queue, <see cref="_running"/> and <see cref="_draining"/>.</summary>
    private readonly Lock _lock = new();
    private readonly List<QueuedGeneration> _queue = [];
    private bool _running;
    private bool _draining;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastGenerationTicks;

    public string ModelName { get; }
    public PipelineVariant Variant => _pipeline.Variant;
    public bool Busy
    {
        get
        {
            lock (_lock) return _running;
        }
    }

    /// <summary>Requests that may be open at once, being read, waiting or generating: the queue's places and a batch's. A
    /// request beyond them is refused before its body is read (<see cref="RequestHandling"/>), which bounds what requests
    /// hold in memory together.</summary>
    public int MaxOpenRequests => _options.MaxWaitingRequests + _pipeline.MaxBatch;

    /// <summary>The backend the pipeline runs on, by name (e.g. "cuda:0 (NVIDIA H200, sm_90, bf16 activations)").</summary>
    public string Device => _pipeline.Backend.Name;

    /// <summary>The text encoder's backend where it runs on another device than the rest; else null.</summary>
    public string? TextEncoderDevice => _pipeline.TextEncoderBackend is { } encoder && encoder != _pipeline.Backend ? encoder.Name : null;

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

    /// <summary>Writes one log line; control characters in it (from what a client sent: a size, a model name) are written as
    /// \uXXXX, so that no request can start a line of its own. <paramref name="details"/> (the server's own text, a stack
    /// trace) follows as it is.</summary>
    public void Log(string id, string line, string? details = null) =>
        _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss} [{id}] {OneLine(line)}" + (details != null ? Environment.NewLine + details : ""));

    private static string OneLine(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString())) : text;

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
        int lastStep = 0;
        var lastElapsed = new Dictionary<int, TimeSpan>(); // of each image
        var queued = new QueuedGeneration(id, r, prepared with
        {
            Request = prepared.Request with
            {
                OnStep = s =>
                {
                    lastStep = s.Step;
                    // The images of a batch step share its time.
                    var previous = s.Step == 1 ? TimeSpan.Zero : lastElapsed.GetValueOrDefault(s.Image);
                    lastElapsed[s.Image] = s.Elapsed;
                    _metrics.StepDone((s.Elapsed - previous) / s.BatchSize);
                    onStep?.Invoke(s);
                },
                OnNotice = notice => Log(id, $"note: {notice}"),
            },
        }, cancellation);
        lock (_lock)
        {
            if (_running && _queue.Count >= _options.MaxWaitingRequests)
                throw new RequestException(503, null, $"the server is busy ({_options.MaxWaitingRequests} requests are already waiting); retry later")
                {
                    RetryAfterSeconds = RetryAfterSeconds(),
                };
            _queue.Add(queued);
            _metrics.QueueChanged(1);
            StartNext();
        }
        using var leaving = cancellation.Register(() => Leave(queued));
        try
        {
            var result = await queued.Done.Task;
            var plan = result.Plan;
            Log(id, $"done: {result.Images.Count} image(s) {plan.Width}x{plan.Height}, {plan.Steps} steps, " +
                $"{Seconds(queued)} s");
            return result;
        }
        catch (OperationCanceledException) when (queued.Started)
        {
            Log(id, $"cancelled after step {lastStep} ({Seconds(queued)} s)");
            throw;
        }
    }

    /// <summary>Time since <paramref name="queued"/>'s generation started.</summary>
    private static string Seconds(QueuedGeneration queued) =>
        Stopwatch.GetElapsedTime(queued.StartedAt).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>A cancelled request leaves the queue, or, once its generation runs, is answered at once: the generation
    /// stops reporting its images and goes on for the requests sharing its batch (it stops when all are cancelled).</summary>
    private void Leave(QueuedGeneration queued)
    {
        lock (_lock)
        {
            if (_queue.Remove(queued)) _metrics.QueueChanged(-1);
        }
        queued.Done.TrySetCanceled(queued.Cancellation);
    }

    /// <summary>Starts the next generation unless one runs: the oldest waiting request and those that can share its batch,
    /// as many as fit one batch with it (so none waits for a second batch of another's images). Called under <see cref="_lock"/>.</summary>
    private void StartNext()
    {
        if (_running || _draining || _queue.Count == 0) return;
        var first = _queue[0].Prepared;
        var batch = new List<QueuedGeneration> { _queue[0] };
        int images = first.Plan.Seeds.Count, room = _pipeline.BatchSize(first);
        foreach (var next in _queue.Skip(1))
        {
            int more = next.Prepared.Plan.Seeds.Count;
            if (images + more > room || !first.CanShareBatchWith(next.Prepared)) continue;
            batch.Add(next);
            images += more;
        }
        foreach (var queued in batch)
        {
            _queue.Remove(queued);
            queued.Start();
        }
        _metrics.QueueChanged(-batch.Count);
        _running = true;
        _metrics.GenerationStarted();
        // A thread of its own: a generation computes for seconds to minutes, and on a pool thread it would hold one of the
        // few that answer requests and notice clients leaving (on a small machine the pool starts with one per core).
        _ = Task.Factory.StartNew(() => Run(batch), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Runs one generation of <paramref name="batch"/> and answers each of its requests.</summary>
    private void Run(List<QueuedGeneration> batch)
    {
        var clock = Stopwatch.StartNew();
        bool completed = false;
        try
        {
            foreach (var q in batch)
                Log(q.Id, $"generating {(q.Request.ReferenceImages.Count > 0 ? $"with {q.Request.ReferenceImages.Count} reference image(s), " : "")}" +
                    $"{(q.Request.Loras.Count > 0 ? $"with LoRAs {string.Join(", ", q.Request.Loras.Select(l => $"{l.Name}:{l.Scale.ToString(CultureInfo.InvariantCulture)}"))}, " : "")}" +
                    $"seed {q.Prepared.Request.Seed}{(batch.Count > 1 ? $", in one batch with {batch.Count - 1} other request(s)" : "")}");
            var outcomes = _pipeline.GenerateTogether([.. batch.Select(q => (q.Prepared, q.Cancellation))]);
            // Retry-After follows generations that made images, not requests refused or cancelled early.
            completed = outcomes.Any(o => o.Result != null);
            for (int i = 0; i < batch.Count; i++)
            {
                var (result, error) = (outcomes[i].Result, outcomes[i].Error);
                if (result != null) batch[i].Done.TrySetResult(result);
                else if (error is OperationCanceledException) batch[i].Done.TrySetCanceled(batch[i].Cancellation);
                else batch[i].Done.TrySetException(Answer(batch[i], error!));
            }
        }
        catch (Exception e)
        {
            foreach (var q in batch)
            {
                if (e is OperationCanceledException) q.Done.TrySetCanceled(q.Cancellation);
                else q.Done.TrySetException(Answer(q, e));
            }
        }
        finally
        {
            lock (_lock)
            {
                if (completed) Interlocked.Exchange(ref _lastGenerationTicks, clock.Elapsed.Ticks);
                _metrics.GenerationEnded(batch.Where(q => q.Done.Task.IsCompletedSuccessfully).Select(_ => clock.Elapsed).ToArray());
                _running = false;
                if (_draining) _idle.TrySetResult();
                StartNext();
            }
        }
    }

    /// <summary>What the client of <paramref name="queued"/> is told about <paramref name="e"/>. The model loaded and worked
    /// at start-up: a <see cref="Flux2Exception"/> now is about what this request asked for, often a LoRA of the folder,
    /// which is named as the client named it, without the server's path.</summary>
    private Exception Answer(QueuedGeneration queued, Exception e)
    {
        if (e is not Flux2Exception) return e;
        var folder = _options.LoraFolder is { } f ? f.Path + Path.DirectorySeparatorChar : null;
        bool aboutLora = e is LoraException || (folder != null && e.Message.Contains(folder, StringComparison.Ordinal));
        return new RequestException(400, aboutLora ? $"{queued.Request.OptionsPath}loras" : null,
            folder != null ? e.Message.Replace(folder, "", StringComparison.Ordinal) : e.Message);
    }

    /// <summary>The images of <paramref name="result"/> encoded as <paramref name="r"/> asked, with the generation's
    /// metadata, as the files of <c>flux2 generate</c> carry it.</summary>
    public IReadOnlyList<byte[]> Encode(GenerationResult result, ResponsesRequest r) =>
        result.Images.Select(image => r.Output.Encode(image.Image,
            GenerationMetadata.Entries(_pipeline, result.Plan, r.Prompts[image.PromptIndex], r.NegativePrompt, image.Seed, r.ReferenceImages.Select(i => i.Name).ToArray()))).ToArray();

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
            ReferenceCap = ReferenceUploads.Cap,
            MaxReferenceImages = _options.MaxReferenceImages,
            Cache = _options.Cache,
        };
        PreparedGeneration prepared;
        try
        {
            prepared = _pipeline.Prepare(request);
        }
        catch (Flux2Exception e)
        {
            var param = Param(e, r);
            // The pipeline's words name its own option; a request field is named in front of them.
            throw e is PipelineException && param != null ? RequestException.BadField(param, e.Message) : new RequestException(400, param, e.Message);
        }
        // One generation too large for the machine would take the whole server down with it.
        long need = _pipeline.EstimateWorkingBytes(prepared), have = _options.WorkingMemoryBytes ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (need > have)
            throw RequestException.BadField(r.SizeParam, $"{prepared.Plan.Width}x{prepared.Plan.Height} needs about {need / 1e9:0.0} GB of " +
                $"working memory besides the weights, more than the {have / 1e9:0.0} GB this server has; ask for a smaller size");
        return prepared;
    }

    /// <summary>The field of <paramref name="r"/> that <paramref name="e"/>, the pipeline's refusal, is about; null when it is
    /// about no single one.</summary>
    private static string? Param(Flux2Exception e, ResponsesRequest r) => e switch
    {
        ImageFileException => r.ImagesParam,
        PipelineException { RequestField: nameof(GenerationRequest.NegativePrompt) } => $"{r.OptionsPath}negative_prompt",
        PipelineException { RequestField: nameof(GenerationRequest.Width) or nameof(GenerationRequest.Height) } => r.SizeParam,
        _ => null,
    };

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
    /// starts no other, so the pipeline can then be disposed safely.</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            _draining = true;
            if (!_running) _idle.TrySetResult();
        }
        return _idle.Task;
    }
}
