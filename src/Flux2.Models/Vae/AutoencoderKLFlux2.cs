using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Vae;

/// <summary>Receives an intermediate activation (named as the diffusers module, e.g. "enc.down_blocks.1");
/// the tensor is only valid during the call.</summary>
public delegate void VaeTrace(string name, Tensor value);

/// <summary>
/// The FLUX.2 VAE (diffusers <c>AutoencoderKLFlux2</c>, BFL <c>AutoEncoder</c>; spec §6): activations in the backend's
/// activation type (fp32 on the CPU), latents in fp32, weights in their stored float format. Loads a diffusers vae/
/// folder or a BFL ae.safetensors file in either naming scheme. Encoding keeps only the posterior mean (no sampling), so encoding
/// the same image twice gives identical latents.
/// <para>Structure: ResnetBlock = x' + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) with x' = x or a 1×1 shortcut;
/// mid block = resnet → single-head attention over the H·W positions (scale 1/√C) with residual → resnet;
/// encoder levels end in a stride-2 3×3 conv after zero padding (left 0, right 1, top 0, bottom 1), decoder levels
/// in nearest ×2 upsampling and a 3×3 conv. Every norm is GroupNorm(groups, eps 1e-6) with affine parameters.</para>
/// </summary>
public sealed class AutoencoderKLFlux2 : IDisposable
{
    /// <summary>The weights file inside a diffusers vae/ folder.</summary>
    public const string DiffusersWeightsFile = "diffusion_pytorch_model.safetensors";

    /// <summary>The downsampler's zero padding: only the bottom row and the right column (spec §12 item 22).</summary>
    public static readonly Conv2dPadding DownsamplePadding = new(Top: 0, Bottom: 1, Left: 0, Right: 1);

    private sealed record Resnet(VaeNorm Norm1, VaeConv Conv1, VaeNorm Norm2, VaeConv Conv2, VaeConv? Shortcut);
    private sealed record Attention(VaeNorm Norm, VaeConv Query, VaeConv Key, VaeConv Value, VaeConv Out);
    private sealed record MidBlock(Resnet First, Attention Attention, Resnet Second);
    /// <summary>One resolution level: its resnets, then the downsampling or upsampling conv (none on the last level).</summary>
    private sealed record Level(Resnet[] Resnets, VaeConv? Resample);

    private readonly SafeTensorsCheckpoint _checkpoint;
    private readonly IBackend _backend;
    private readonly List<IDisposable> _parameters = [];
    private readonly VaeLatentStatistics? _statistics;
    private readonly string? _statisticsProblem;

    private readonly VaeConv _encoderConvIn, _encoderConvOut, _quantConv;
    private readonly Level[] _down;
    private readonly MidBlock _encoderMid;
    private readonly VaeNorm _encoderNormOut;

    private readonly VaeConv _postQuantConv, _decoderConvIn, _decoderConvOut;
    private readonly MidBlock _decoderMid;
    private readonly Level[] _up;
    private readonly VaeNorm _decoderNormOut;

    public VaeConfig Config { get; }
    public VaeNaming Naming { get; }

    /// <summary>The backend the weights are resident on and the VAE runs on.</summary>
    public IBackend Backend => _backend;
    /// <summary>The weights file.</summary>
    public string Source => _checkpoint.Path;

    /// <summary>
    /// Opens a VAE: <paramref name="weightsPath"/> is a diffusers vae/ folder (config.json + diffusion_pytorch_model.safetensors)
    /// or a single .safetensors file (BFL ae.safetensors or a diffusers file). The configuration comes from
    /// <paramref name="configPath"/>, else from the folder's config.json, else it is inferred from the tensor shapes.
    /// </summary>
    public static AutoencoderKLFlux2 Load(string weightsPath, IBackend backend, string? configPath = null)
    {
        string file = weightsPath;
        if (Directory.Exists(weightsPath))
        {
            file = Path.Combine(weightsPath, DiffusersWeightsFile);
            if (!File.Exists(file) && File.Exists(file + ".index.json")) file += ".index.json";
            var folderConfig = Path.Combine(weightsPath, "config.json");
            if (configPath == null && File.Exists(folderConfig)) configPath = folderConfig;
        }
        if (!File.Exists(file)) throw new VaeException($"VAE weights not found: {file}");
        if (configPath != null && !File.Exists(configPath)) throw new VaeException($"VAE config not found: {configPath}");
        var checkpoint = SafeTensorsCheckpoint.Open(file);
        try
        {
            var config = configPath != null ? VaeConfig.FromJsonFile(configPath) : VaeWeightMap.InferConfig(checkpoint);
            return new AutoencoderKLFlux2(checkpoint, config, backend);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Builds the model over an open checkpoint, which it then owns.</summary>
    public AutoencoderKLFlux2(SafeTensorsCheckpoint checkpoint, VaeConfig config, IBackend backend)
    {
        _checkpoint = checkpoint;
        _backend = backend;
        Config = config;
        var map = new VaeWeightMap(checkpoint, config.Levels, backend);
        Naming = map.Names.Naming;
        config.CheckAgainst(checkpoint, Naming, checkpoint.Path);
        try
        {
            var ch = config.BlockOutChannels;
            int top = ch[^1];

            _encoderConvIn = Own(map.Conv("encoder.conv_in", ch[0], config.InChannels, 3));
            _down = new Level[config.Levels];
            int channels = ch[0];
            for (int i = 0; i < config.Levels; i++)
            {
                var resnets = new Resnet[config.LayersPerBlock];
                for (int j = 0; j < resnets.Length; j++, channels = ch[i])
                    resnets[j] = LoadResnet(map, map.Names.EncoderResnet(i, j), channels, ch[i]);
                var down = i < config.Levels - 1 ? Own(map.Conv(map.Names.Downsample(i), ch[i], ch[i], 3)) : null;
                _down[i] = new Level(resnets, down);
            }
            _encoderMid = LoadMid(map, "encoder", top);
            _encoderNormOut = Own(map.Norm(map.Names.NormOut("encoder"), top));
            _encoderConvOut = Own(map.Conv("encoder.conv_out", 2 * config.LatentChannels, top, 3));
            _quantConv = Own(map.Conv(map.Names.QuantConv, 2 * config.LatentChannels, 2 * config.LatentChannels, 1));

            _postQuantConv = Own(map.Conv(map.Names.PostQuantConv, config.LatentChannels, config.LatentChannels, 1));
            _decoderConvIn = Own(map.Conv("decoder.conv_in", top, config.LatentChannels, 3));
            _decoderMid = LoadMid(map, "decoder", top);
            _up = new Level[config.Levels];
            channels = top;
            for (int k = 0; k < config.Levels; k++)
            {
                int outChannels = ch[config.Levels - 1 - k];
                var resnets = new Resnet[config.LayersPerBlock + 1];
                for (int j = 0; j < resnets.Length; j++, channels = outChannels)
                    resnets[j] = LoadResnet(map, map.Names.DecoderResnet(k, j), channels, outChannels);
                var up = k < config.Levels - 1 ? Own(map.Conv(map.Names.Upsample(k), outChannels, outChannels, 3)) : null;
                _up[k] = new Level(resnets, up);
            }
            _decoderNormOut = Own(map.Norm(map.Names.NormOut("decoder"), ch[0]));
            _decoderConvOut = Own(map.Conv("decoder.conv_out", config.OutChannels, ch[0], 3));

            (_statistics, _statisticsProblem) = LoadStatistics(map, checkpoint, config);
            var unread = map.Unread();
            if (unread.Count > 0)
                throw new SafeTensorsException(checkpoint.Path, unread[0],
                    $"is not part of a {map.Names.Naming} VAE with block_out_channels [{string.Join(", ", ch)}] and layers_per_block " +
                    $"{config.LayersPerBlock} ({unread.Count} unexpected tensor(s); wrong config.json?)");
        }
        catch
        {
            foreach (var p in _parameters) p.Dispose();
            _statistics?.Dispose();
            throw;
        }
    }

    /// <summary>The latent BatchNorm statistics; refused (as MAX does) when the checkpoint lacks them or holds zeros.</summary>
    public VaeLatentStatistics Statistics => _statistics ?? throw new VaeException(_statisticsProblem!);

    /// <summary>quant_conv(encoder(image)): image [B, Cin, H, W] in [−1, 1] → moments [B, 2·latent, H/8, W/8]
    /// (mean, then log-variance).</summary>
    public Tensor EncodeMoments(Tensor image, VaeTrace? trace = null)
    {
        if (image.DType != DType.Float32 || image.Rank != 4 || image.Shape[0] < 1 || image.Shape[1] != Config.InChannels)
            throw new VaeException($"image to encode must be Float32 [B, {Config.InChannels}, H, W], found {image.DType} {image.ShapeText}");
        VaeImages.RequireImageSize(image.Shape[2], image.Shape[3], "image to encode");
        var h = Conv(_encoderConvIn, image);
        trace?.Invoke("enc.conv_in", h);
        for (int i = 0; i < _down.Length; i++)
        {
            foreach (var r in _down[i].Resnets) h = RunResnet(r, h);
            if (_down[i].Resample is { } down) h = Consume(h, x => Conv(down, x, stride: 2, padding: DownsamplePadding));
            trace?.Invoke($"enc.down_blocks.{i}", h);
        }
        h = RunMid(_encoderMid, h);
        trace?.Invoke("enc.mid_block", h);
        h = Consume(h, x => Norm(_encoderNormOut, x, silu: true));
        h = Consume(h, x => Conv(_encoderConvOut, x));
        trace?.Invoke("enc.conv_out", h);
        // The moments are latents, Float32 on every backend, whatever the activation type.
        return Consume(h, x => Conv(_quantConv, x, output: DType.Float32));
    }

    /// <summary>The posterior mean (the first latent-channels of the moments): [B, latent, H/8, W/8].</summary>
    public Tensor EncodeMean(Tensor image, VaeTrace? trace = null)
    {
        using var moments = EncodeMoments(image, trace);
        return MeanOf(moments);
    }

    /// <summary>Channels [0, latent) of moments [B, 2·latent, h, w].</summary>
    public Tensor MeanOf(Tensor moments)
    {
        if (moments.DType != DType.Float32 || moments.Rank != 4 || moments.Shape[1] != 2 * Config.LatentChannels)
            throw new VaeException($"moments must be Float32 [B, {2 * Config.LatentChannels}, h, w], found {moments.DType} {moments.ShapeText}");
        int b = moments.Shape[0], z = Config.LatentChannels, plane = moments.Shape[2] * moments.Shape[3];
        var mean = _backend.Allocate(DType.Float32, b, z, moments.Shape[2], moments.Shape[3]);
        // Per batch item, the mean is the first half of the item's channels: rows [0, z) of [2z, plane].
        _backend.CopyColumns(moments.Reshape(b, 2 * z * plane), 0, z * plane, mean.Reshape(b, z * plane));
        return mean;
    }

    /// <summary>decoder(post_quant_conv(z)): latents [B, latent, h, w] (un-normalised, unpatchified) → [B, Cout, 8h, 8w].</summary>
    public Tensor Decode(Tensor latents, VaeTrace? trace = null)
    {
        if (latents.DType != DType.Float32 || latents.Rank != 4 || latents.Length == 0 || latents.Shape[1] != Config.LatentChannels)
            throw new VaeException($"latents to decode must be Float32 [B, {Config.LatentChannels}, h, w], found {latents.DType} {latents.ShapeText}");
        var h = Conv(_postQuantConv, latents);
        trace?.Invoke("dec.post_quant_conv", h);
        h = Consume(h, x => Conv(_decoderConvIn, x));
        trace?.Invoke("dec.conv_in", h);
        h = RunMid(_decoderMid, h);
        trace?.Invoke("dec.mid_block", h);
        for (int k = 0; k < _up.Length; k++)
        {
            foreach (var r in _up[k].Resnets) h = RunResnet(r, h);
            if (_up[k].Resample is { } up)
            {
                h = Consume(h, x =>
                {
                    var y = _backend.Allocate(_backend.ActivationDType, x.Shape[0], x.Shape[1], 2 * x.Shape[2], 2 * x.Shape[3]);
                    _backend.UpsampleNearest2x(x, y);
                    return y;
                });
                h = Consume(h, x => Conv(up, x));
            }
            trace?.Invoke($"dec.up_blocks.{k}", h);
        }
        h = Consume(h, x => Norm(_decoderNormOut, x, silu: true));
        return Consume(h, x => Conv(_decoderConvOut, x));
    }

    /// <summary>What a reference image contributes to the transformer: mean → 2×2 patchify → normalise → pack,
    /// [B, 3, H, W] → tokens [B, (H/16)·(W/16), 4·latent].</summary>
    public Tensor EncodeToTokens(Tensor image)
    {
        using var mean = EncodeMean(image);
        using var patchified = VaeLatents.Patchify(_backend, mean);
        using var normalized = Statistics.Normalize(patchified);
        return VaeLatents.Pack(_backend, normalized);
    }

    /// <summary>The inverse path for denoised tokens [B, height·width, 4·latent] (row-major): unpack → denormalise
    /// → unpatchify → decode, giving [B, 3, 16·height, 16·width].</summary>
    public Tensor DecodeTokens(Tensor tokens, int height, int width)
    {
        var statistics = Statistics;
        using var unpacked = VaeLatents.Unpack(_backend, tokens, height, width);
        using var patchified = statistics.Denormalize(unpacked);
        using var latents = VaeLatents.Unpatchify(_backend, patchified);
        return Decode(latents);
    }

    public void Dispose()
    {
        foreach (var p in _parameters) p.Dispose();
        _parameters.Clear();
        _statistics?.Dispose();
        _checkpoint.Dispose();
    }

    private Tensor RunResnet(Resnet r, Tensor x)
    {
        Tensor h1;
        using (var h = Norm(r.Norm1, x, silu: true)) h1 = Conv(r.Conv1, h);
        using var h2 = Consume(h1, t => Norm(r.Norm2, t, silu: true));
        // The residual branch is added onto the shortcut in place: x itself when the channels match.
        var output = r.Shortcut is { } shortcut ? Consume(x, t => Conv(shortcut, t)) : x;
        _backend.Conv2d(h2, r.Conv2.Weight, 3, r.Conv2.Bias, 1, Conv2dPadding.All(1), output, accumulate: true);
        return output;
    }

    private Tensor RunMid(MidBlock mid, Tensor x)
    {
        x = RunResnet(mid.First, x);
        x = RunAttention(mid.Attention, x);
        return RunResnet(mid.Second, x);
    }

    /// <summary>x + out(attention(q, k, v)) with one head over the H·W positions; projections run as 1×1 convs
    /// on the NCHW activations and are transposed to token rows for the attention op.</summary>
    private Tensor RunAttention(Attention a, Tensor x)
    {
        int b = x.Shape[0], c = x.Shape[1], l = x.Shape[2] * x.Shape[3];
        using var normed = Norm(a.Norm, x, silu: false);
        using var q = Consume(Conv(a.Query, normed), ToTokens);
        using var k = Consume(Conv(a.Key, normed), ToTokens);
        using var v = Consume(Conv(a.Value, normed), ToTokens);
        using var attended = _backend.Allocate(_backend.ActivationDType, b, l, c);
        _backend.Attention(q, 0, k, 0, v, 0, attended, 0, heads: 1, headDim: c, scale: 1f / MathF.Sqrt(c));
        using var channelsFirst = _backend.Allocate(_backend.ActivationDType, x.Shape);
        using (var view = channelsFirst.Reshape(b, c, l)) _backend.TransposeLastTwo(attended, view);
        _backend.Conv2d(channelsFirst, a.Out.Weight, 1, a.Out.Bias, 1, Conv2dPadding.All(0), x, accumulate: true);
        return x;
    }

    /// <summary>[B, C, H, W] → token rows [B, H·W, C].</summary>
    private Tensor ToTokens(Tensor x)
    {
        var tokens = _backend.Allocate(_backend.ActivationDType, x.Shape[0], x.Shape[2] * x.Shape[3], x.Shape[1]);
        using var view = x.Reshape(x.Shape[0], x.Shape[1], x.Shape[2] * x.Shape[3]);
        _backend.TransposeLastTwo(view, tokens);
        return tokens;
    }

    /// <param name="output">the output's type; the activation type unless given</param>
    private Tensor Conv(VaeConv conv, Tensor x, int stride = 1, Conv2dPadding? padding = null, DType? output = null)
    {
        var pad = padding ?? Conv2dPadding.All(conv.KernelSize / 2);
        int k = conv.KernelSize;
        var y = _backend.Allocate(output ?? _backend.ActivationDType, x.Shape[0], conv.OutChannels,
            (x.Shape[2] + pad.Top + pad.Bottom - k) / stride + 1, (x.Shape[3] + pad.Left + pad.Right - k) / stride + 1);
        _backend.Conv2d(x, conv.Weight, k, conv.Bias, stride, pad, y);
        return y;
    }

    private Tensor Norm(VaeNorm norm, Tensor x, bool silu)
    {
        var y = _backend.Allocate(_backend.ActivationDType, x.Shape);
        _backend.GroupNorm(x, Config.NormNumGroups, VaeConfig.GroupNormEps, norm.Gamma, norm.Beta, silu, y);
        return y;
    }

    /// <summary>Applies <paramref name="step"/> and frees its input, so activations live only as long as needed.</summary>
    private static Tensor Consume(Tensor x, Func<Tensor, Tensor> step)
    {
        using (x) return step(x);
    }

    private T Own<T>(T parameter) where T : IDisposable
    {
        _parameters.Add(parameter);
        return parameter;
    }

    private Resnet LoadResnet(VaeWeightMap map, string name, int inChannels, int outChannels) => new(
        Own(map.Norm(name + ".norm1", inChannels)),
        Own(map.Conv(name + ".conv1", outChannels, inChannels, 3)),
        Own(map.Norm(name + ".norm2", outChannels)),
        Own(map.Conv(name + ".conv2", outChannels, outChannels, 3)),
        inChannels != outChannels ? Own(map.Conv(map.Names.Shortcut(name), outChannels, inChannels, 1)) : null);

    private MidBlock LoadMid(VaeWeightMap map, string part, int channels)
    {
        var attention = map.Names.MidAttention(part);
        return new MidBlock(
            LoadResnet(map, map.Names.MidResnet(part, 0), channels, channels),
            new Attention(
                Own(map.Norm(map.Names.AttentionNorm(attention), channels)),
                Own(map.Projection(map.Names.AttentionQuery(attention), channels)),
                Own(map.Projection(map.Names.AttentionKey(attention), channels)),
                Own(map.Projection(map.Names.AttentionValue(attention), channels)),
                Own(map.Projection(map.Names.AttentionOut(attention), channels))),
            LoadResnet(map, map.Names.MidResnet(part, 1), channels, channels));
    }

    private (VaeLatentStatistics?, string?) LoadStatistics(VaeWeightMap map, SafeTensorsCheckpoint checkpoint, VaeConfig config)
    {
        bool hasMean = checkpoint.Contains(VaeWeightMap.StatisticsMean), hasVar = checkpoint.Contains(VaeWeightMap.StatisticsVariance);
        if (!hasMean && !hasVar)
            return (null, $"{checkpoint.Path}: the VAE has no latent statistics ({VaeWeightMap.StatisticsMean}, " +
                $"{VaeWeightMap.StatisticsVariance}); FLUX.2 latents cannot be normalised or decoded without them");
        var mean = map.HostVector(VaeWeightMap.StatisticsMean, config.PatchedChannels);
        var variance = map.HostVector(VaeWeightMap.StatisticsVariance, config.PatchedChannels);
        var problem = VaeLatentStatistics.FindProblem(mean, variance, checkpoint.Path);
        return problem != null
            ? (null, problem)
            : (new VaeLatentStatistics(_backend, mean, variance, (float)config.BatchNormEps, checkpoint.Path), null);
    }
}
