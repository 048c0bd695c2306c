using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using ReferencePass = Flux2.Models.Transformer.Flux2TransformerActivations.ReferencePass;

namespace Flux2.Models.Transformer;

/// <summary>
/// The FLUX.2 transformer (diffusers <c>Flux2Transformer2DModel</c>, BFL <c>Flux2</c>), spec §3. Weights stay in the
/// checkpoint's stored format, memory-mapped; the model only calls <see cref="IBackend"/> ops. Activation buffers
/// are sized once per (batch, image tokens, text tokens) and reused, so a steady-state forward pass allocates nothing.
/// Not thread-safe: one forward pass at a time.
/// </summary>
public sealed class Flux2Transformer : IDisposable
{
    /// <summary>The t and g inputs are σ-like values in [0, 1]; the model embeds 1000·t (spec §3.2).</summary>
    private const float TimestepMultiplier = 1000f;

    /// <summary>A Linear layer: its weight as stored and, where LoRAs adapt it, their side path (see <see cref="UseLoras"/>).</summary>
    private sealed class LinearLayer(string name, LinearWeight weight)
    {
        public string Name { get; } = name;
        public LinearWeight Weight { get; } = weight;
        public LoraSidePath? Lora { get; set; }
    }
    private sealed record DoubleStream(LinearLayer[] Qkv, Tensor NormQ, Tensor NormK, LinearLayer Out, LinearLayer MlpIn, LinearLayer MlpOut);
    private sealed record DoubleBlock(DoubleStream Img, DoubleStream Txt);
    private sealed record SingleBlock(LinearLayer Linear1, LinearLayer Linear2, Tensor NormQ, Tensor NormK);

    private readonly IBackend _backend;
    private readonly IDisposable? _owner;
    /// <summary>The Linear weights as stored (host memory), by name: DoRA modules are resolved against them.</summary>
    private readonly Func<string, LinearWeight> _storedWeight;
    private readonly List<LinearWeight> _weights = [];
    private readonly List<LinearLayer> _layers = [];
    private readonly List<Tensor> _normWeights = [];
    private readonly LinearLayer _imgIn, _txtIn, _time1, _time2, _modImg, _modTxt, _modSingle, _finalMod, _projOut;
    private readonly LinearLayer? _guidance1, _guidance2;
    private int _loraScratchWidth;
    private readonly DoubleBlock[] _doubleBlocks;
    private readonly SingleBlock[] _singleBlocks;
    private readonly int _finalShiftColumn, _finalScaleColumn;
    private Flux2TransformerActivations? _act;
    /// <summary>The klein 9B-KV cache the running pass writes (extract) or reads (cached); null in a standard pass.</summary>
    private ReferenceKvCache? _referenceCache;

    public Flux2Config Config { get; }
    public TensorNaming Naming { get; }

    /// <summary>The backend the weights are resident on and the forward pass runs on.</summary>
    public IBackend Backend => _backend;

    /// <summary>What loading found questionable but used anyway (e.g. a single-block Linear whose stored format disagrees
    /// with <c>_quantization_metadata</c>, see <see cref="Flux2QuantizationPlan.Warnings"/>); empty when all is as expected.</summary>
    public IReadOnlyList<string> LoadWarnings { get; private init; } = [];

    /// <summary>The LoRAs the side paths run now (empty: none).</summary>
    public IReadOnlyList<LoraFile> Loras { get; private set; } = [];

    /// <summary>Optional sink for intermediate tensors, named as the golden <c>trace.*</c> tensors (without the prefix):
    /// timestep_proj, temb, mod_double_img, img_in, rope_cos ([L, head_dim/2], one value per pair), double_blocks.N.img,
    /// single_blocks.N, final_norm, ... The tensor is only valid during the call.</summary>
    public Action<string, Tensor>? Trace { get; set; }

    /// <summary>Loads a transformer from a BFL or diffusers single .safetensors file, a shard index, a diffusers
    /// transformer/ folder or a diffusers repository. The config comes from <paramref name="configPath"/>, else the
    /// folder's config.json, else the tensor shapes (spec §4.7). <paramref name="loras"/> are applied as in
    /// <see cref="FromCheckpoint"/>.</summary>
    public static Flux2Transformer Load(string path, IBackend backend, string? configPath = null, IReadOnlyList<LoraFile>? loras = null,
        bool lenientLoraKeys = false)
    {
        var checkpoint = OpenCheckpoint(path, out var folderConfig);
        try
        {
            return FromCheckpoint(checkpoint, Flux2ConfigInference.Load(checkpoint, configPath ?? folderConfig), backend, loras, lenientLoraKeys);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Opens the transformer weights at <paramref name="path"/> (a single file, a shard index, a transformer/ folder
    /// or a diffusers repository) memory-mapped; <paramref name="configPath"/> receives the folder's config.json, if any.</summary>
    public static SafeTensorsCheckpoint OpenCheckpoint(string path, out string? configPath)
    {
        var source = CheckpointSource.Discover(path);
        var component = source.Layout == CheckpointLayout.DiffusersRepository
            ? source.Component("transformer") ?? throw new CheckpointException(path, "the diffusers repository has no transformer/ folder")
            : source.Components[0];
        var weights = component.WeightsPath
            ?? throw new CheckpointException(component.Directory, "no transformer weights (diffusion_pytorch_model.safetensors or its .index.json)");
        configPath = component.ConfigPath;
        return SafeTensorsCheckpoint.Open(weights);
    }

    /// <summary>Builds the model over an open checkpoint (which it then owns) whose shapes match <paramref name="config"/>.
    /// Every Linear weight comes from <see cref="LinearWeightLoader"/>, so quantized checkpoints run unchanged.
    /// <paramref name="loras"/> (any LoRA format, on either naming) run as a low-rank side path of the layers they adapt;
    /// with <paramref name="lenientLoraKeys"/>, LoRA tensors that adapt no layer are skipped with a <see cref="LoadWarnings"/>
    /// entry instead of refused.</summary>
    /// <exception cref="LoraException">a LoRA file does not fit this transformer</exception>
    public static Flux2Transformer FromCheckpoint(SafeTensorsCheckpoint checkpoint, Flux2Config config, IBackend backend,
        IReadOnlyList<LoraFile>? loras = null, bool lenientLoraKeys = false)
    {
        var tensors = checkpoint.Names.Select(checkpoint.Info).ToList();
        var naming = Flux2ConfigInference.RequireNaming(tensors, checkpoint.Path);
        Flux2ConfigInference.CheckShapes(config, tensors, naming, checkpoint.Path);
        var plan = Flux2QuantizationPlan.Create(config, checkpoint);
        var loraSet = loras is { Count: > 0 } ? LoraSet.Load(loras, plan.Config, naming, lenientLoraKeys) : null;
        var fullName = checkpoint.Names.ToDictionary(Flux2WeightMap.StripPrefix, n => n, StringComparer.Ordinal);
        return new Flux2Transformer(plan.Config, naming, name => LinearWeightLoader.Load(checkpoint, fullName[name]),
            name => checkpoint.Get(fullName[name]).ToFloat32Array(), backend, checkpoint, loraSet)
        {
            LoadWarnings = [.. plan.Warnings, .. loraSet?.Warnings ?? []],
        };
    }

    /// <summary>Builds the model from weights looked up by their <paramref name="naming"/> names (without prefix):
    /// <paramref name="linear"/> gives Linear weights in their stored format (in host memory; asked again when a DoRA adapter
    /// is applied, for the weights' norms), <paramref name="vector"/> the QK-norm weights. Both are made resident on
    /// <paramref name="backend"/>. <paramref name="owner"/> (the memory the stored weights live in)
    /// is disposed with the model. <paramref name="loras"/> (resolved for this config and naming) add their side paths.</summary>
    public Flux2Transformer(Flux2Config config, TensorNaming naming, Func<string, LinearWeight> linear, Func<string, float[]> vector,
        IBackend backend, IDisposable? owner = null, LoraSet? loras = null)
    {
        _owner = owner;
        _storedWeight = linear;
        _backend = backend;
        Config = config;
        Naming = naming;
        LinearLayer Linear(string name)
        {
            var weight = backend.LoadLinear(linear(name));
            _weights.Add(weight);
            var layer = new LinearLayer(name, weight);
            _layers.Add(layer);
            return layer;
        }
        Tensor Norm(string name)
        {
            var values = vector(name);
            var t = backend.Upload<float>(values, values.Length);
            _normWeights.Add(t);
            return t;
        }
        DoubleStream Stream(DoubleStreamNames n) =>
            new(n.Qkv.Select(Linear).ToArray(), Norm(n.NormQ), Norm(n.NormK), Linear(n.Out), Linear(n.MlpIn), Linear(n.MlpOut));

        try
        {
            var names = Flux2TensorNames.For(naming);
            _imgIn = Linear(names.ImgIn);
            _txtIn = Linear(names.TxtIn);
            _time1 = Linear(names.TimeLinear1);
            _time2 = Linear(names.TimeLinear2);
            if (config.GuidanceEmbeds)
            {
                _guidance1 = Linear(names.GuidanceLinear1);
                _guidance2 = Linear(names.GuidanceLinear2);
            }
            _modImg = Linear(names.ModDoubleImg);
            _modTxt = Linear(names.ModDoubleTxt);
            _modSingle = Linear(names.ModSingle);
            _finalMod = Linear(names.FinalModulation);
            _projOut = Linear(names.ProjOut);
            _doubleBlocks = Enumerable.Range(0, config.NumLayers).Select(i => new DoubleBlock(Stream(names.DoubleImg(i)), Stream(names.DoubleTxt(i)))).ToArray();
            _singleBlocks = Enumerable.Range(0, config.NumSingleLayers).Select(j =>
            {
                var n = names.Single(j);
                return new SingleBlock(Linear(n.Linear1), Linear(n.Linear2), Norm(n.NormQ), Norm(n.NormK));
            }).ToArray();

            // BFL keeps the final modulation rows as [shift | scale]; diffusers swapped them to [scale | shift] (spec §3.9).
            int d = config.InnerDim;
            (_finalShiftColumn, _finalScaleColumn) = names.FinalModulationShiftFirst ? (0, d) : (d, 0);
            if (loras != null) UseLoras(loras);
        }
        catch
        {
            ReleaseWeights();
            throw;
        }
    }

    /// <summary>Replaces the LoRA side paths with those of <paramref name="loras"/> (resolved for this config and naming; null
    /// removes them all). The new factors are made resident before the old ones are released, so a failure leaves the model
    /// as it was; the stored weights are never touched.</summary>
    public void UseLoras(LoraSet? loras)
    {
        if (loras is { HasWeightDecomposition: true }) loras = loras.ResolveWeightDecomposition(_storedWeight);
        var paths = new Dictionary<LinearLayer, LoraSidePath>();
        try
        {
            if (loras != null)
                foreach (var layer in _layers)
                {
                    var update = loras.Updates.GetValueOrDefault(layer.Name);
                    var kronecker = loras.Kronecker.GetValueOrDefault(layer.Name) ?? [];
                    var gains = loras.Gains.GetValueOrDefault(layer.Name);
                    if (update != null || kronecker.Count > 0 || gains != null) paths[layer] = LoraSidePath.Load(_backend, update, kronecker, gains);
                }
        }
        catch
        {
            ReleaseLoraPaths(paths.Values);
            throw;
        }
        var old = _layers.Select(l => l.Lora).OfType<LoraSidePath>().ToList();
        foreach (var layer in _layers) layer.Lora = paths.GetValueOrDefault(layer);
        ReleaseLoraPaths(old);
        Loras = loras?.Files ?? [];
        int width = loras?.ScratchWidth ?? 0;
        if (width != _loraScratchWidth)
        {
            // The activations' side-path scratch is sized by this width: the next pass allocates them anew.
            _act?.Dispose();
            _act = null;
            _loraScratchWidth = width;
        }
    }

    /// <summary>The forward pass into a new output tensor [B, L, out_channels] (the caller disposes it).</summary>
    public Tensor Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance, Tensor imgIds, Tensor txtIds)
    {
        var (batch, imageTokens, _) = ValidateInputs(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds);
        var output = _backend.Allocate(DType.Float32, batch, imageTokens, Config.EffectiveOutChannels);
        try
        {
            Forward(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The forward pass (spec §3). <paramref name="hiddenStates"/> [B, L, 128] holds the noisy image tokens then any
    /// reference tokens; <paramref name="encoderHiddenStates"/> [B, Ltxt, ctx]; <paramref name="timestep"/> [B] is σ
    /// (the model embeds 1000·σ); <paramref name="guidance"/> [B] is used by models with a guidance embedder (dev) and
    /// ignored otherwise; <paramref name="imgIds"/> [L, 4] or [B', L, 4] and <paramref name="txtIds"/> [Ltxt, 4] or
    /// [B', Ltxt, 4] are Int64 positions of which only batch element 0 is used. Writes <paramref name="output"/> [B, L, out].
    /// </summary>
    public void Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance, Tensor imgIds, Tensor txtIds, Tensor output) =>
        Forward(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output, firstBlock: null);

    /// <summary>As the forward pass above, showing the image stream to <paramref name="firstBlock"/> around double block 0
    /// (First-Block-Cache, spec §10.1).</summary>
    /// <returns>false when <paramref name="firstBlock"/> stopped the pass after double block 0 (<paramref name="output"/> is then
    /// left unwritten), true when the output was written</returns>
    public bool Forward(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance, Tensor imgIds, Tensor txtIds, Tensor output,
        IFirstBlockHook? firstBlock)
    {
        if (firstBlock != null && _doubleBlocks.Length == 0)
            throw new Flux2Exception("First-Block-Cache needs a double-stream block; this transformer has none (num_layers = 0)");
        return Run(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output, firstBlock, ReferencePass.None, null);
    }

    /// <summary>
    /// FLUX.2 klein 9B-KV's first step with reference images (spec §3.11; diffusers' <c>kv_cache_mode="extract"</c>):
    /// <paramref name="hiddenStates"/> [B, Lref + Limg, 128] holds the <paramref name="referenceTokens"/> reference tokens
    /// first, then the noisy ones, and <paramref name="imgIds"/> their ids in that order. The reference tokens are modulated
    /// at timestep 0 and attend only to each other; the text and noisy tokens attend to every token. Writes the noisy
    /// tokens' prediction to <paramref name="output"/> [B, Limg, out] and returns every layer's reference keys and values
    /// for <see cref="ForwardWithReferenceCache"/> (the caller disposes them).
    /// </summary>
    public ReferenceKvCache ForwardExtractingReferences(Tensor hiddenStates, int referenceTokens, Tensor encoderHiddenStates, Tensor timestep,
        Tensor? guidance, Tensor imgIds, Tensor txtIds, Tensor output)
    {
        var (batch, imageTokens, _) = ValidateInputs(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds);
        if (referenceTokens < 1 || referenceTokens >= imageTokens)
            throw new Flux2Exception($"reference tokens: expected 1 to {imageTokens - 1} of the {imageTokens} tokens of hidden_states, found {referenceTokens}");
        var cache = new ReferenceKvCache(_backend, batch, referenceTokens, _doubleBlocks.Length + _singleBlocks.Length, Config.InnerDim);
        try
        {
            Run(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output, null, ReferencePass.Extract, cache);
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <summary>FLUX.2 klein 9B-KV's later steps (<c>kv_cache_mode="cached"</c>): <paramref name="hiddenStates"/> [B, Limg, 128]
    /// holds only the noisy tokens, and every attention reads the reference keys and values of <paramref name="cache"/>
    /// between the text keys and the image keys. Writes <paramref name="output"/> [B, Limg, out].</summary>
    public void ForwardWithReferenceCache(Tensor hiddenStates, ReferenceKvCache cache, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance,
        Tensor imgIds, Tensor txtIds, Tensor output)
    {
        var (batch, _, _) = ValidateInputs(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds);
        if (cache.Batch != batch || cache.Layers != _doubleBlocks.Length + _singleBlocks.Length || cache.Width != 2 * Config.InnerDim)
            throw new Flux2Exception($"the reference cache holds {cache.Batch} samples of {cache.Layers} layers {cache.Width} wide; this pass needs {batch} of " +
                $"{_doubleBlocks.Length + _singleBlocks.Length} layers {2 * Config.InnerDim} wide");
        Run(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output, null, ReferencePass.Cached, cache);
    }

    private bool Run(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance, Tensor imgIds, Tensor txtIds, Tensor output,
        IFirstBlockHook? firstBlock, ReferencePass pass, ReferenceKvCache? cache)
    {
        var (batch, imageTokens, textTokens) = ValidateInputs(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds);
        int referenceTokens = cache?.ReferenceTokens ?? 0;
        int outputTokens = pass == ReferencePass.Extract ? imageTokens - referenceTokens : imageTokens;
        if (output.DType != DType.Float32 || output.Rank != 3 || output.Shape[0] != batch || output.Shape[1] != outputTokens || output.Shape[2] != Config.EffectiveOutChannels)
            throw new Flux2Exception($"transformer output must be Float32 [{batch}, {outputTokens}, {Config.EffectiveOutChannels}], found {output.ShapeText} {output.DType}");
        if (_act == null || !_act.Fits(batch, imageTokens, textTokens, pass, referenceTokens))
        {
            _act?.Dispose();
            _act = null;
            _act = new Flux2TransformerActivations(_backend, Config, batch, imageTokens, textTokens, _loraScratchWidth, pass, referenceTokens);
        }
        _referenceCache = cache;
        try
        {
            return Run(hiddenStates, encoderHiddenStates, timestep, guidance, imgIds, txtIds, output, firstBlock);
        }
        finally
        {
            _referenceCache = null;
        }
    }

    private bool Run(Tensor hiddenStates, Tensor encoderHiddenStates, Tensor timestep, Tensor? guidance, Tensor imgIds, Tensor txtIds, Tensor output,
        IFirstBlockHook? firstBlock)
    {
        var a = _act!;
        int batch = a.Batch;
        var be = _backend;
        int d = Config.InnerDim;

        // §3.2 time (and guidance) embedding → temb [B, D].
        be.TimestepEmbedding(timestep, TimestepMultiplier, a.TimeProjection);
        Emit("timestep_proj", a.TimeProjection);
        Mlp(a.TimeProjection, _time1, _time2, a.Temb, accumulate: false);
        Emit("temb_timestep", a.Temb);
        if (_guidance1 != null && _guidance2 != null && guidance != null)
        {
            be.TimestepEmbedding(guidance, TimestepMultiplier, a.GuidanceProjection);
            Emit("guidance_proj", a.GuidanceProjection);
            if (Trace != null)
            {
                var tembGuidance = a.TraceBuffer("temb_guidance", batch, d);
                Mlp(a.GuidanceProjection, _guidance1, _guidance2, tembGuidance, accumulate: false);
                Emit("temb_guidance", tembGuidance);
            }
            Mlp(a.GuidanceProjection, _guidance1, _guidance2, a.Temb, accumulate: true);
        }
        Emit("temb", a.Temb);

        // §3.3 shared modulation: (shift, scale, gate) chunks of width D.
        be.Silu(a.Temb, a.SiluTemb);
        Linear(a.SiluTemb, _modImg, a.ModDoubleImg);
        Linear(a.SiluTemb, _modTxt, a.ModDoubleTxt);
        Linear(a.SiluTemb, _modSingle, a.ModSingle);
        Linear(a.SiluTemb, _finalMod, a.ModFinal);
        Emit("mod_double_img", a.ModDoubleImg);
        Emit("mod_double_txt", a.ModDoubleTxt);
        Emit("mod_single", a.ModSingle);
        if (a.Pass == ReferencePass.Extract)
        {
            // The reference tokens' modulation: the same embedding at timestep 0 (ref_fixed_timestep), guidance as given.
            be.TimestepEmbedding(a.ReferenceTimestep!, TimestepMultiplier, a.TimeProjection);
            Mlp(a.TimeProjection, _time1, _time2, a.ReferenceTemb!, accumulate: false);
            if (_guidance1 != null && _guidance2 != null && guidance != null) Mlp(a.GuidanceProjection, _guidance1, _guidance2, a.ReferenceTemb!, accumulate: true);
            be.Silu(a.ReferenceTemb!, a.SiluTemb);
            Linear(a.SiluTemb, _modImg, a.ModDoubleImgReference!);
            Linear(a.SiluTemb, _modSingle, a.ModSingleReference!);
        }

        // §3.4 input embedders; §3.5 RoPE over ids = [txt_ids; img_ids] (text first).
        Linear(hiddenStates, _imgIn, a.Img);
        Linear(encoderHiddenStates, _txtIn, a.Txt);
        Emit("img_in", a.Img);
        Emit("txt_in", a.Txt);
        UpdateRope(a, imgIds, txtIds);
        Emit("rope_cos", a.RopeCos);
        Emit("rope_sin", a.RopeSin);

        firstBlock?.BeforeFirstBlock(a.Img);
        for (int i = 0; i < _doubleBlocks.Length; i++)
        {
            DoubleBlockForward(a, _doubleBlocks[i], i);
            if (Trace != null)
            {
                Trace($"double_blocks.{i}.img", a.Img);
                Trace($"double_blocks.{i}.txt", a.Txt);
            }
            // §10.1: after block 0 the caller may reuse its previous prediction instead of running the rest.
            if (i == 0 && firstBlock != null && firstBlock.SkipAfterFirstBlock(a.Img)) return false;
        }

        // §3.7 h = concat(txt, img).
        for (int b = 0; b < batch; b++)
        {
            be.CopyColumns(a.TxtRows[b], 0, d, a.HiddenTxtRows[b]);
            be.CopyColumns(a.ImgRows[b], 0, d, a.HiddenImgRows[b]);
        }
        for (int j = 0; j < _singleBlocks.Length; j++)
        {
            SingleBlockForward(a, _singleBlocks[j], _doubleBlocks.Length + j);
            if (Trace != null) Trace($"single_blocks.{j}", a.Hidden);
        }

        // §3.9 final layer on the image rows (text dropped; reference tokens kept, but for extracted ones).
        for (int b = 0; b < batch; b++)
        {
            if (a.Pass == ReferencePass.Extract)
                be.ModulatedLayerNorm(a.Rows(a.Hidden, b, a.Tokens - a.OutputTokens, a.OutputTokens), a.Rows(a.FinalNormed, b, 0, a.OutputTokens),
                    a.ModFinalRows[b], _finalShiftColumn, _finalScaleColumn, (float)Config.Eps);
            else
                be.ModulatedLayerNorm(a.HiddenImgRows[b], a.FinalNormedRows[b], a.ModFinalRows[b], _finalShiftColumn, _finalScaleColumn, (float)Config.Eps);
        }
        if (Trace != null)
        {
            var shift = a.TraceBuffer("final_shift", batch, d);
            var scale = a.TraceBuffer("final_scale", batch, d);
            be.CopyColumns(a.ModFinal, _finalShiftColumn, d, shift);
            be.CopyColumns(a.ModFinal, _finalScaleColumn, d, scale);
            Trace("final_shift", shift);
            Trace("final_scale", scale);
            Trace("final_norm", a.FinalNormed);
        }
        Linear(a.FinalNormed, _projOut, output);
        return true;
    }

    /// <summary>§3.6: one double-stream block on a.Img and a.Txt, with joint attention over [txt, img].</summary>
    private void DoubleBlockForward(Flux2TransformerActivations a, DoubleBlock block, int layer)
    {
        var be = _backend;
        int d = Config.InnerDim, m = Config.MlpHidden;
        float eps = (float)Config.Eps;

        // Attention: modulated norm, q|k|v into the joint buffer (text rows first), per-head QK norm, RoPE, SDPA.
        ModulatedLayerNorm(a.Img, a.ImgNormed, a.ModDoubleImg, a.ModDoubleImgReference, 0, 0 * d, 1 * d);
        be.ModulatedLayerNorm(a.Txt, a.TxtNormed, a.ModDoubleTxt, 0 * d, 1 * d, eps);
        for (int b = 0; b < a.Batch; b++)
        {
            ProjectQkv(a.ImgNormedRows[b], block.Img, a.QkvImgRows[b]);
            ProjectQkv(a.TxtNormedRows[b], block.Txt, a.QkvTxtRows[b]);
        }
        for (int b = 0; b < a.Batch; b++)
        {
            QkNorm(a.QkvImgRows[b], block.Img);
            QkNorm(a.QkvTxtRows[b], block.Txt);
        }
        RopeAttention(a.JointQkv, a.JointAttention, layer);
        for (int b = 0; b < a.Batch; b++)
        {
            Linear(a.AttentionImgRows[b], block.Img.Out, a.ImgUpdateRows[b]);
            Linear(a.AttentionTxtRows[b], block.Txt.Out, a.TxtUpdateRows[b]);
        }
        AddGated(a.Img, a.ImgUpdate, a.ModDoubleImg, a.ModDoubleImgReference, 0, 2 * d);
        be.AddGated(a.Txt, a.TxtUpdate, a.ModDoubleTxt, 2 * d);

        // Feed-forward: x += gate_mlp · linear_out(SwiGLU(linear_in(Mod(x)))).
        FeedForward(a.Img, a.ImgNormed, a.ImgMlpHidden, a.ImgMlpGated, a.ImgUpdate, a.ModDoubleImg, a.ModDoubleImgReference, block.Img, m);
        FeedForward(a.Txt, a.TxtNormed, a.TxtMlpHidden, a.TxtMlpGated, a.TxtUpdate, a.ModDoubleTxt, null, block.Txt, m);
    }

    private void FeedForward(Tensor x, Tensor normed, Tensor hidden, Tensor gated, Tensor update, Tensor mod, Tensor? referenceMod, DoubleStream w, int m)
    {
        int d = Config.InnerDim;
        ModulatedLayerNorm(x, normed, mod, referenceMod, 0, 3 * d, 4 * d);
        Linear(normed, w.MlpIn, hidden);
        _backend.SwiGlu(hidden, 0, m, gated);
        Linear(gated, w.MlpOut, update);
        AddGated(x, update, mod, referenceMod, 0, 5 * d);
    }

    /// <summary>The modulated LayerNorm of a stream's rows; in a pass extracting klein 9B-KV references, the reference rows
    /// (<paramref name="referenceStart"/> on, of every sample) take <paramref name="referenceMod"/>, their timestep-0
    /// modulation, and the others <paramref name="mod"/>.</summary>
    private void ModulatedLayerNorm(Tensor x, Tensor y, Tensor mod, Tensor? referenceMod, int referenceStart, int shiftColumn, int scaleColumn)
    {
        var a = _act!;
        float eps = (float)Config.Eps;
        if (referenceMod == null || a.Pass != ReferencePass.Extract)
        {
            _backend.ModulatedLayerNorm(x, y, mod, shiftColumn, scaleColumn, eps);
            return;
        }
        for (int b = 0; b < a.Batch; b++)
            foreach (var (start, count, reference) in ReferenceSegments(x.Shape[1], referenceStart))
                _backend.ModulatedLayerNorm(a.Rows(x, b, start, count), a.Rows(y, b, start, count), a.Row(reference ? referenceMod : mod, b),
                    shiftColumn, scaleColumn, eps);
    }

    /// <summary>x += gate · update, the gate taken as <see cref="ModulatedLayerNorm(Tensor, Tensor, Tensor, Tensor?, int, int, int)"/>
    /// takes its modulation.</summary>
    private void AddGated(Tensor x, Tensor update, Tensor mod, Tensor? referenceMod, int referenceStart, int gateColumn)
    {
        var a = _act!;
        if (referenceMod == null || a.Pass != ReferencePass.Extract)
        {
            _backend.AddGated(x, update, mod, gateColumn);
            return;
        }
        for (int b = 0; b < a.Batch; b++)
            foreach (var (start, count, reference) in ReferenceSegments(x.Shape[1], referenceStart))
                _backend.AddGated(a.Rows(x, b, start, count), a.Rows(update, b, start, count), a.Row(reference ? referenceMod : mod, b), gateColumn);
    }

    /// <summary>A sample's rows as runs of the same modulation: those before the reference rows, the reference rows, those after.</summary>
    private IEnumerable<(int Start, int Count, bool Reference)> ReferenceSegments(int rows, int referenceStart)
    {
        int references = _act!.ReferenceTokens, after = referenceStart + references;
        if (referenceStart > 0) yield return (0, referenceStart, false);
        yield return (referenceStart, references, true);
        if (after < rows) yield return (after, rows - after, false);
    }

    /// <summary>A stream's q | k | v into consecutive column ranges: one fused weight (BFL) or three (diffusers).</summary>
    private void ProjectQkv(Tensor x, DoubleStream w, Tensor qkv)
    {
        int column = 0;
        foreach (var part in w.Qkv)
        {
            Linear(x, part, qkv, column);
            column += part.Weight.OutFeatures;
        }
    }

    /// <summary>§3.7: one single-stream block on a.Hidden.</summary>
    private void SingleBlockForward(Flux2TransformerActivations a, SingleBlock block, int layer)
    {
        var be = _backend;
        int d = Config.InnerDim, m = Config.MlpHidden;
        ModulatedLayerNorm(a.Hidden, a.HiddenNormed, a.ModSingle, a.ModSingleReference, a.TextTokens, 0 * d, 1 * d);
        Linear(a.HiddenNormed, block.Linear1, a.Fused);
        be.RmsNorm(a.Fused, a.Fused, block.NormQ, (float)Config.Eps, 0, d);
        be.RmsNorm(a.Fused, a.Fused, block.NormK, (float)Config.Eps, d, d);
        RopeAttention(a.Fused, a.AttentionAndMlp, layer);
        be.SwiGlu(a.Fused, 3 * d, m, a.AttentionAndMlp, d);
        Linear(a.AttentionAndMlp, block.Linear2, a.HiddenUpdate);
        AddGated(a.Hidden, a.HiddenUpdate, a.ModSingle, a.ModSingleReference, a.TextTokens, 2 * d);
    }

    /// <summary>Per-head RMSNorm of a stream's q = columns [0, D) and k = [D, 2D), each with the stream's own weights.</summary>
    private void QkNorm(Tensor qkv, DoubleStream w)
    {
        int d = Config.InnerDim;
        _backend.RmsNorm(qkv, qkv, w.NormQ, (float)Config.Eps, 0, d);
        _backend.RmsNorm(qkv, qkv, w.NormK, (float)Config.Eps, d, d);
    }

    /// <summary>RoPE on q = columns [0, D) and k = [D, 2D) of a joint-sequence buffer, then attention with v = [2D, 3D)
    /// into columns [0, D) of <paramref name="output"/>. klein 9B-KV (spec §3.11): extracting, the reference rows' keys
    /// and values go to the cache's <paramref name="layer"/> and the reference queries attend only to the reference keys;
    /// from the cache, the keys and values are the text's, the cache's, then the image's.</summary>
    private void RopeAttention(Tensor qkv, Tensor output, int layer)
    {
        var a = _act!;
        int d = Config.InnerDim, heads = Config.NumAttentionHeads, headDim = Config.AttentionHeadDim;
        float scale = 1f / MathF.Sqrt(headDim);
        _backend.InterleavedRope(qkv, 0, heads, a.RopeCos, a.RopeSin);
        _backend.InterleavedRope(qkv, d, heads, a.RopeCos, a.RopeSin);
        int text = a.TextTokens, references = a.ReferenceTokens;
        switch (a.Pass)
        {
            case ReferencePass.None:
                _backend.Attention(qkv, 0, qkv, d, qkv, 2 * d, output, 0, heads, headDim, scale);
                break;
            case ReferencePass.Extract:
                int image = a.Tokens - text - references;
                for (int b = 0; b < a.Batch; b++)
                {
                    var all = a.Rows(qkv, b, 0, a.Tokens);
                    var reference = a.Rows(qkv, b, text, references);
                    _backend.CopyColumns(reference, d, 2 * d, _referenceCache!.Rows(layer, b));
                    _backend.Attention(a.Rows(qkv, b, 0, text), 0, all, d, all, 2 * d, a.Rows(output, b, 0, text), 0, heads, headDim, scale);
                    _backend.Attention(a.Rows(qkv, b, text + references, image), 0, all, d, all, 2 * d, a.Rows(output, b, text + references, image), 0,
                        heads, headDim, scale);
                    _backend.Attention(reference, 0, reference, d, reference, 2 * d, a.Rows(output, b, text, references), 0, heads, headDim, scale);
                }
                break;
            case ReferencePass.Cached:
                var keysValues = a.KeysValues!;
                for (int b = 0; b < a.Batch; b++)
                {
                    _backend.CopyColumns(a.Rows(qkv, b, 0, text), d, 2 * d, a.Rows(keysValues, b, 0, text));
                    _backend.Copy(_referenceCache!.Rows(layer, b), a.Rows(keysValues, b, text, references));
                    _backend.CopyColumns(a.Rows(qkv, b, text, a.ImageTokens), d, 2 * d, a.Rows(keysValues, b, text + references, a.ImageTokens));
                }
                _backend.Attention(qkv, 0, keysValues, 0, keysValues, d, output, 0, heads, headDim, scale);
                break;
        }
    }

    /// <summary>linear_2(SiLU(linear_1(x))) into y (or added to y).</summary>
    private void Mlp(Tensor x, LinearLayer linear1, LinearLayer linear2, Tensor y, bool accumulate)
    {
        var hidden = _act!.EmbedHidden;
        Linear(x, linear1, hidden);
        _backend.Silu(hidden, hidden);
        Linear(hidden, linear2, y, 0, accumulate);
    }

    /// <summary>y[:, column ..+N) = x·Wᵀ (or += with <paramref name="accumulate"/>), plus the layer's LoRA side paths: the
    /// stacked low-rank (x·Downᵀ)·Upᵀ and each LoKr product x·(A ⊗ B)ᵀ over its rows. Under DoRA modules x·Wᵀ is first
    /// multiplied by their gains, column by column. W is used as stored (quantized, memory-mapped) and never merged with an
    /// update.</summary>
    private void Linear(Tensor x, LinearLayer layer, Tensor y, int column = 0, bool accumulate = false)
    {
        var side = layer.Lora;
        int rows = checked((int)(x.Length / x.Shape[^1]));
        if (side?.Gains is not { } gains)
            _backend.Linear(x, layer.Weight, y, column, accumulate);
        else if (!accumulate)
        {
            _backend.Linear(x, layer.Weight, y, column);
            _backend.ScaleColumns(y, column, gains, y, column);
        }
        else
        {
            // y already holds a sum: the product is scaled apart, then added.
            var product = _act!.ProductApart(rows, layer.Weight.OutFeatures);
            _backend.Linear(x, layer.Weight, product);
            _backend.ScaleColumns(product, 0, gains, y, column, accumulate: true);
        }
        if (side == null) return;
        if (side.LowRank is { } lowRank)
        {
            var projected = _act!.LoraProjection(rows, lowRank.Down.OutFeatures);
            _backend.Linear(x, lowRank.Down, projected);
            _backend.Linear(projected, lowRank.Up, y, column, accumulate: true);
        }
        foreach (var kronecker in side.Kronecker)
        {
            var scratch = _act!.LoraProjection(rows, kronecker.ScratchWidth);
            foreach (var range in kronecker.Ranges)
                _backend.KroneckerLinear(x, kronecker.First, kronecker.Second, scratch, y, column + range.TargetRow, range.SourceRow, range.Rows,
                    kronecker.OutputScales);
        }
    }

    /// <summary>ids = [txt_ids; img_ids] of batch element 0 and their RoPE tables. The tables are rebuilt every pass: the
    /// ids live on the backend, and a rebuild costs a few milliseconds against seconds of blocks.</summary>
    private void UpdateRope(Flux2TransformerActivations a, Tensor imgIds, Tensor txtIds)
    {
        _backend.Copy(a.FirstBatchTextIds(txtIds), a.TextIds);
        _backend.Copy(a.FirstBatchImageIds(imgIds), a.ImageIds);
        _backend.RopeTable(a.Ids, Config.AxesDimsRope, Config.RopeTheta, a.RopeCos, a.RopeSin);
    }

    private void Emit(string name, Tensor t) => Trace?.Invoke(name, t);

    private (int Batch, int ImageTokens, int TextTokens) ValidateInputs(Tensor hidden, Tensor encoder, Tensor timestep, Tensor? guidance,
        Tensor imgIds, Tensor txtIds)
    {
        static string Shape(Tensor t) => $"{t.ShapeText} {t.DType}";
        if (hidden.DType != DType.Float32 || hidden.Rank != 3 || hidden.Shape[2] != Config.InChannels || hidden.Shape[0] < 1 || hidden.Shape[1] < 1)
            throw new Flux2Exception($"transformer input hidden_states must be Float32 [B, L, {Config.InChannels}] with B, L >= 1, found {Shape(hidden)}");
        int batch = hidden.Shape[0], imageTokens = hidden.Shape[1];
        if (encoder.DType != DType.Float32 && encoder.DType != _backend.ActivationDType || encoder.Rank != 3 || encoder.Shape[0] != batch || encoder.Shape[2] != Config.JointAttentionDim || encoder.Shape[1] < 1)
            throw new Flux2Exception($"transformer input encoder_hidden_states must be Float32 or {_backend.ActivationDType} [{batch}, L_txt, {Config.JointAttentionDim}] with L_txt >= 1, found {Shape(encoder)}");
        int textTokens = encoder.Shape[1];
        if (timestep.DType != DType.Float32 || timestep.Rank != 1 || timestep.Shape[0] != batch)
            throw new Flux2Exception($"transformer input timestep must be Float32 [{batch}], found {Shape(timestep)}");
        if (guidance != null && Config.GuidanceEmbeds && (guidance.DType != DType.Float32 || guidance.Rank != 1 || guidance.Shape[0] != batch))
            throw new Flux2Exception($"transformer input guidance must be Float32 [{batch}], found {Shape(guidance)}");
        CheckIds(imgIds, "img_ids", imageTokens, batch, "the image and reference tokens of hidden_states");
        CheckIds(txtIds, "txt_ids", textTokens, batch, "the text tokens of encoder_hidden_states");
        return (batch, imageTokens, textTokens);
    }

    /// <summary>Ids are exact Int64 positions, one row per token (a float/bf16 id path would round positions, spec §12.8).</summary>
    private void CheckIds(Tensor ids, string name, int tokens, int batch, string what)
    {
        int axes = Config.AxesDimsRope.Count;
        bool ok = ids.DType == DType.Int64 && (ids.Rank == 2 && ids.Shape[0] == tokens && ids.Shape[1] == axes
            || ids.Rank == 3 && (ids.Shape[0] == 1 || ids.Shape[0] == batch) && ids.Shape[1] == tokens && ids.Shape[2] == axes);
        if (!ok)
            throw new Flux2Exception($"transformer input {name} must be Int64 [{tokens}, {axes}] or [B, {tokens}, {axes}], one row per token of {what}; found {ids.ShapeText} {ids.DType}");
    }

    public void Dispose()
    {
        _act?.Dispose();
        _act = null;
        ReleaseWeights();
        _owner?.Dispose();
    }

    private void ReleaseWeights()
    {
        ReleaseLoraPaths(_layers.Select(l => l.Lora).OfType<LoraSidePath>());
        foreach (var layer in _layers) layer.Lora = null;
        foreach (var t in _normWeights) t.Dispose();
        _normWeights.Clear();
        foreach (var w in _weights) w.Dispose();
        _weights.Clear();
    }

    private static void ReleaseLoraPaths(IEnumerable<LoraSidePath> paths)
    {
        foreach (var path in paths) path.Dispose();
    }
}
