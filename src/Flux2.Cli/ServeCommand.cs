using System.Net;
using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines;
using Flux2.Server;

namespace Flux2.Cli;

/// <summary><c>flux2 serve</c>: loads a model once and serves it over HTTP (spec §11, <see cref="ImageServer"/>).</summary>
/// <param name="backends">makes the backend factory from --threads (this build's backends by default)</param>
/// <param name="environment">reads an environment variable (FLUX2_API_KEY); the process environment by default</param>
/// <param name="hub">finds Hugging Face model ids (default: the Hub and cache the environment names)</param>
public sealed class ServeCommand(Func<BackendOptions, IBackendFactory>? backends = null, Func<string, string?>? environment = null,
    HubModels? hub = null) : ICommand
{
    public const string ApiKeyVariable = "FLUX2_API_KEY";

    private readonly Func<BackendOptions, IBackendFactory> _backends = backends ?? ComputeOptions.BuiltIn;
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "serve";
    public string Summary => "serve a model over HTTP (OpenAI images API, OpenResponses /v1/responses)";

    public string Help =>
        """
        Usage: flux2 serve (-m MODEL | --transformer FILE --vae FILE --text-encoder PATH) [options]

        Loads a FLUX.2 model (a diffusers folder, a Hugging Face model id found in the Hugging Face cache and
        downloaded there when missing, or its components as single files) once and serves it over HTTP until
        Ctrl-C or SIGTERM, which stop it cleanly: no new request is accepted, the generation in flight stops at
        once, every open request is answered 503, and the process exits 0. A second Ctrl-C exits at once.
          POST /v1/images/generations  text-to-image, OpenAI images API (JSON; stream: true for progress events)
          POST /v1/images/edits        editing: the images as multipart file parts image or image[] (PNG, JPEG, WebP)
          POST /v1/responses           text-to-image or editing, OpenResponses format as MAX serves it
          GET  /v1/models              the served model
          GET  /metrics                Prometheus metrics
          GET  /health                 status and model variant (open even with an API key)
        One image is generated at a time (see --batch); further requests wait (16 at most, then 503 with
        Retry-After).
        A request whose client disconnects stops within moments. Images come back as base64 PNG, JPEG or WebP
        (output_format), with the generation settings in their metadata (PNG text chunks, or XMP).
        Prompts seen before skip the text encoder: their embeddings are kept in memory (256 MiB) and in
        ~/.cache/flux2/prompts (as for flux2 generate; FLUX2_PROMPT_CACHE).

        Options:

        """ + ModelArguments.Help("(required, or the component files)") + """

              --host ADDRESS       IP address to listen on (default 127.0.0.1); any other address needs an
                                   API key, or --insecure-no-auth
              --port N             TCP port (default 8080)
              --api-key KEY        require 'Authorization: Bearer KEY' (default: the FLUX2_API_KEY environment
                                   variable; none on loopback when neither is set)
              --insecure-no-auth   serve beyond loopback without an API key (trusted networks only)
              --request-timeout S  stop a request S seconds after it arrives, queue time included, and answer
                                   504 (default 600)
              --body-timeout S     answer 408 to a request whose body has not arrived S seconds after the
                                   request (default 120): a slow upload holds one of the few open places
              --image-decodes N    decode at most N uploaded reference images at once (default 2); each holds
                                   its full-size bitmap while it decodes, up to ~470 MB for 8192² pixels
              --cors-origin ORIGIN let a browser page from ORIGIN (scheme://host[:port]) call the server;
                                   repeat for several
              --device DEVICE      where to compute: cpu (default) or cuda[:N]
              --text-encoder-device DEVICE
                                   where the text encoder runs (default: --device, or cpu when its weights
                                   would not fit in what the GPU has free): cpu beside --device cuda keeps
                                   them off a GPU too small for all the models
              --precision P        bf16 (default where the processor has AVX512_BF16; about twice as fast) or fp32 (exact)
              --threads N          CPU compute threads (default: all processors)
              --batch N            denoise up to N images together as one transformer batch (default 1): the
                                   images of a request, and waiting requests of the same size, steps, guidance
                                   and LoRAs without reference images join the batch (not with --cache, whose
                                   generations run one image at a time); more images per second where one
                                   image leaves the device idle, N times the activation memory
              --cache MODE         none (default), fbcache or taylorseer, for every request; with
                                   --cache-threshold, --taylorseer-interval, --taylorseer-warmup and
                                   --taylorseer-order as for flux2 generate
              --lora FILE[:SCALE]  apply a LoRA to every request (repeatable; as for flux2 generate; recorded in
                                   the images' metadata)
              --lora-dir FOLDER    let requests add LoRAs of FOLDER by name: "loras": ["NAME[:SCALE]", ...] names
                                   FOLDER/NAME.safetensors (in /v1/responses: provider_options.image.loras)
              --lora-lenient       skip LoRA tensors that adapt no layer of the transformer, with a warning

        Example:
          flux2 serve -m black-forest-labs/FLUX.2-klein-4B --port 8080
          curl -s http://127.0.0.1:8080/v1/images/generations -H 'Content-Type: application/json' \
            -d '{"prompt": "a red fox in the snow", "size": "768x512", "seed": 42}'

        """;

    /// <summary>A week: long enough for a large model on a small CPU.</summary>
    private const int MaxRequestTimeoutSeconds = 7 * 24 * 3600;

    private static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string> { ["-m"] = "model" };

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>As <see cref="Run(IReadOnlyList{string}, TextWriter, TextWriter)"/>, also stopping when <paramref name="stop"/>
    /// fires (Ctrl-C and SIGTERM always stop it, see <see cref="StopSignals"/>).</summary>
    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        var o = new CommandArgs(args, new HashSet<string> { "insecure-no-auth", GenerateLoraOptions.LenientFlag }, Aliases);
        var model = ModelArguments.Parse(o, defaultModel: null);
        var host = o.Optional("host") ?? "127.0.0.1";
        int port = o.OptionalInt("port", 0, 65535) ?? 8080;
        var apiKey = o.Optional("api-key") ?? _environment(ApiKeyVariable);
        bool noAuth = o.Flag("insecure-no-auth");
        int timeout = o.OptionalInt("request-timeout", 1, MaxRequestTimeoutSeconds) ?? 600;
        int bodyTimeout = o.OptionalInt("body-timeout", 1, MaxRequestTimeoutSeconds) ?? 120;
        int imageDecodes = o.OptionalInt("image-decodes", 1, 64) ?? 2;
        var corsOrigins = o.Many("cors-origin");
        var compute = ComputeOptions.Parse(o, _backends);
        var textEncoderDevice = ComputeOptions.TextEncoderDevice(o);
        var cache = GenerateCacheOptions.Parse(o);
        int batch = o.OptionalInt("batch", 1, PipelineOptions.MaxBatchLimit) ?? 1;
        var loraDir = o.Optional("lora-dir");
        var loras = GenerateLoraOptions.Parse(o, alternative: "lora-dir");
        o.EnsureAllUsed(0);
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new CliException($"option --host: '{host}' is not an IP address");
        var options = new ImageServerOptions
        {
            Address = address,
            Port = port,
            Cache = cache,
            Log = error,
            ApiKey = apiKey,
            AllowNoAuthBeyondLoopback = noAuth,
            RequestTimeout = TimeSpan.FromSeconds(timeout),
            BodyTimeout = TimeSpan.FromSeconds(bodyTimeout),
            ConcurrentImageDecodes = imageDecodes,
            CorsOrigins = corsOrigins,
            LoraFolder = loraDir == null ? null : new LoraFolder(loraDir),
        };
        options.Check(); // before the model loads, which takes minutes

        var config = model.Resolve(_hub, Name, error, stop) with { Devices = [compute.Device], TextEncoderDevice = textEncoderDevice };
        var loraFiles = GenerateLoraOptions.Resolve(loras.Files, _hub, Name, error, stop);
        using var signals = new StopSignals(stop);
        // The text encoder stays loaded: a server encodes many prompts.
        using var pipeline = Flux2Pipeline.Load(config, compute.Backends, new PipelineOptions
        {
            Loras = loraFiles, LenientLoraKeys = loras.Lenient, PromptCache = PromptEmbeddingCache.ForProcess(), MaxBatch = batch,
            // Unless told where, a text encoder too large for what the GPU has free beside the transformer runs on the CPU.
            TextEncoderFallbackDevice = textEncoderDevice == null ? DeviceRef.Cpu() : null,
        });
        foreach (var warning in pipeline.LoadWarnings) error.WriteLine($"flux2 serve: warning: {warning}");
        Serve(pipeline, options, output, signals.Token).GetAwaiter().GetResult();
        return CliApp.ExitOk;
    }

    private static async Task Serve(Flux2Pipeline pipeline, ImageServerOptions options, TextWriter output, CancellationToken stop)
    {
        await using (var server = await ImageServer.StartAsync(pipeline, options))
        {
            output.WriteLine($"listening on {server.BaseAddress} (Ctrl-C to stop)");
            output.Flush();
            await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
            output.WriteLine("stopping");
            output.Flush();
        }
        output.WriteLine("stopped");
    }
}
