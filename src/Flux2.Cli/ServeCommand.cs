using System.Net;
using Flux2.Backends;
using Flux2.Core.Backend;
using Flux2.Pipelines;
using Flux2.Server;

namespace Flux2.Cli;

/// <summary><c>flux2 serve</c>: loads a model once and serves it over HTTP (spec §11, <see cref="ImageServer"/>).</summary>
/// <param name="backends">makes the backend factory from --threads (this build's backends by default)</param>
/// <param name="hub">finds Hugging Face model ids (default: the Hub and cache the environment names)</param>
public sealed class ServeCommand(Func<BackendOptions, IBackendFactory>? backends = null, HubModels? hub = null) : ICommand
{
    private readonly Func<BackendOptions, IBackendFactory> _backends = backends ?? ComputeOptions.BuiltIn;
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "serve";
    public string Summary => "serve a model over HTTP (POST /v1/responses, OpenResponses format)";

    public string Help =>
        """
        Usage: flux2 serve (-m MODEL | --transformer FILE --vae FILE --text-encoder PATH) [options]

        Loads a FLUX.2 model (a diffusers folder, a Hugging Face model id found in the Hugging Face cache and
        downloaded there when missing, or its components as single files) once and serves it over HTTP until
        Ctrl-C or SIGTERM, which stop it cleanly: no new request is accepted, the generation in flight stops at
        its next step, every open request is answered 503, and the process exits 0. A second Ctrl-C exits at once.
          POST /v1/responses   text-to-image, or editing with input_image items (base64 data: URIs)
          GET  /health         status and model variant
          GET  /v1/models      the served model
        One image is generated at a time; further requests wait. A request whose client disconnects
        stops at the next denoising step. Images come back as base64 PNG (output_format "png" only).

        Options:

        """ + ModelArguments.Help("(required, or the component files)") + """

              --host ADDRESS       IP address to listen on (default 127.0.0.1; the server has no
                                   authentication, so bind other addresses only on trusted networks)
              --port N             TCP port (default 8080)
              --device DEVICE      where to compute: cpu (default) or cuda[:N]
              --precision P        bf16 (default where the processor has AVX512_BF16; about twice as fast) or fp32 (exact)
              --threads N          CPU compute threads (default: all processors)
              --cache MODE         none (default), fbcache or taylorseer, for every request; with
                                   --cache-threshold, --taylorseer-interval, --taylorseer-warmup and
                                   --taylorseer-order as for flux2 generate

        Example:
          flux2 serve -m black-forest-labs/FLUX.2-klein-4B --port 8080
          curl -s http://127.0.0.1:8080/v1/responses -H 'Content-Type: application/json' \
            -d '{"input": "a red fox in the snow", "seed": 42, "provider_options": {"image": {"width": 768, "height": 512}}}'

        """;

    private static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string> { ["-m"] = "model" };

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error) => Run(args, output, error, CancellationToken.None);

    /// <summary>As <see cref="Run(IReadOnlyList{string}, TextWriter, TextWriter)"/>, also stopping when <paramref name="stop"/>
    /// fires (Ctrl-C and SIGTERM always stop it, see <see cref="StopSignals"/>).</summary>
    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken stop)
    {
        var o = new CommandArgs(args, new HashSet<string>(), Aliases);
        var model = ModelArguments.Parse(o, defaultModel: null);
        var host = o.Optional("host") ?? "127.0.0.1";
        int port = o.OptionalInt("port", 0, 65535) ?? 8080;
        var compute = ComputeOptions.Parse(o, _backends);
        var cache = GenerateCacheOptions.Parse(o);
        o.EnsureAllUsed(0);
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new CliException($"option --host: '{host}' is not an IP address");

        var config = model.Resolve(_hub, Name, error, stop) with { Devices = [compute.Device] };
        using var signals = new StopSignals(stop);
        // The text encoder stays loaded: a server encodes many prompts.
        using var pipeline = Flux2Pipeline.Load(config, compute.Backends);
        foreach (var warning in pipeline.LoadWarnings) error.WriteLine($"flux2 serve: warning: {warning}");
        Serve(pipeline, new ImageServerOptions { Address = address, Port = port, Cache = cache, Log = error }, output, signals.Token).GetAwaiter().GetResult();
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
