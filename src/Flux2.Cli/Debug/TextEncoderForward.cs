using System.Globalization;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.TextEncoders;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward text-encoder</c>: inputs.input_ids and inputs.attention_mask [B, L] →
/// outputs.prompt_embeds [B, L, 3·hidden] and outputs.hidden_states.K [B, L, hidden] for K = 0, 1 and the stacked layers.</summary>
public sealed class TextEncoderForward : IForwardComponent
{
    public string Name => "text-encoder";

    public string Usage => "--weights DIR|FILE [--config config.json] [--layers 9,18,27] [--fully-masked-rows zero|uniform]";

    public void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        var weightsPath = args.Required("weights");
        var configPath = args.Optional("config");
        var layersText = args.Optional("layers");
        var rowsText = args.Optional("fully-masked-rows");
        args.EnsureAllUsed(0);
        var fullyMaskedRows = rowsText switch
        {
            null or "zero" => FullyMaskedRows.Zero,
            "uniform" => FullyMaskedRows.Uniform,
            _ => throw new CliException($"option --fully-masked-rows: '{rowsText}' is not one of zero, uniform"),
        };

        var (config, configFile, weightsFile) = TextEncoderFiles.ReadConfig(weightsPath, configPath);
        var stackedLayers = layersText == null ? config.FluxHiddenStateLayers : ParseLayers(layersText);
        // Hidden states 0 and 1 come almost for free and locate a divergence at the embedding or the first layer.
        var allLayers = new[] { 0, 1 }.Where(k => k < config.NumLayers).Concat(stackedLayers).Distinct().Order().ToArray();

        var ids = inputs.Int64Values("inputs.input_ids", 2);
        var mask = inputs.Int64Values("inputs.attention_mask", 2);
        var shape = inputs.Shape("inputs.input_ids");
        var options = new TextEncoderOptions { HiddenStateLayers = allLayers, FullyMaskedRows = fullyMaskedRows };
        using var backend = compute.CreateBackend();
        using var encoder = TextEncoder.Open(backend, weightsFile, configFile, options);
        log.WriteLine($"{config.Architecture} text encoder: {allLayers[^1]} of {config.NumLayers} layers, hidden states {string.Join(", ", allLayers)}");
        if (inputs.Shape("inputs.attention_mask") is var maskShape && !maskShape.SequenceEqual(shape))
            throw new Flux2Exception($"{inputs.Path}: 'inputs.attention_mask' [{string.Join(", ", maskShape)}] must have the shape of 'inputs.input_ids' [{string.Join(", ", shape)}]");
        float[] all;
        using (var encoded = encoder.Encode(ids, mask, shape[0])) all = backend.DownloadFloat32(encoded);

        int batch = shape[0], length = shape[1], hidden = config.HiddenSize;
        Tensor Slots(IReadOnlyList<int> layers)
        {
            var t = Tensor.Zeros(batch, length, layers.Count * hidden);
            var source = all.AsSpan();
            var dst = t.AsSpan<float>();
            for (int r = 0; r < batch * length; r++)
                for (int s = 0; s < layers.Count; s++)
                    source.Slice((r * allLayers.Length + Array.IndexOf(allLayers, layers[s])) * hidden, hidden)
                        .CopyTo(dst.Slice((r * layers.Count + s) * hidden, hidden));
            return t;
        }
        foreach (var k in allLayers)
        {
            using var state = Slots([k]);
            outputs.Add($"outputs.hidden_states.{k}", state);
        }
        using var embeds = Slots(stackedLayers);
        outputs.Add("outputs.prompt_embeds", embeds);
    }

    private static int[] ParseLayers(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var layers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out layers[i]))
                throw new CliException($"option --layers: '{text}' is not a comma-separated list of layer indices");
        for (int i = 1; i < layers.Length; i++)
            if (layers[i] <= layers[i - 1]) throw new CliException($"option --layers: '{text}' must be strictly ascending");
        return layers;
    }
}
