using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.Transformer;

/// <summary>
/// Every activation buffer of one <see cref="Flux2Transformer"/> forward pass, allocated on the backend in its activation
/// type, sized for one (batch, image tokens, text tokens) and reused across calls, together with the per-batch-element
/// views the double blocks need (a stream's rows inside the joint [text, image] sequence). A klein 9B-KV pass (spec
/// §3.11) adds its own: the timestep-0 modulation of the reference tokens when extracting their keys and values, the
/// joint key/value buffer they are spliced into when using them.
/// </summary>
internal sealed class Flux2TransformerActivations : IDisposable
{
    /// <summary>How a pass treats reference tokens: as image tokens (none, or any in the standard model), as klein 9B-KV's
    /// leading reference tokens whose keys and values it extracts, or through a cache of them.</summary>
    public enum ReferencePass { None, Extract, Cached }

    private readonly IBackend _backend;
    private readonly List<Tensor> _owned = [];
    private readonly Dictionary<string, Tensor> _traceBuffers = [];
    private readonly Tensor? _loraScratch;
    private readonly Dictionary<(int Rows, int Rank), Tensor> _loraProjections = [];
    private readonly Dictionary<(int Rows, int Width), Tensor> _apart = [];
    private readonly FirstBatchView _textIdsView = new(), _imageIdsView = new();
    private readonly Dictionary<(Tensor, int, int, int), Tensor> _rows = [];

    public int Batch { get; }
    public int ImageTokens { get; }
    public int TextTokens { get; }
    public int Tokens => TextTokens + ImageTokens;
    public ReferencePass Pass { get; }
    /// <summary>Reference tokens of a klein 9B-KV pass: the leading image-stream rows (extract) or the cache's (cached).</summary>
    public int ReferenceTokens { get; }
    /// <summary>Image tokens the output has: all but the extracted reference tokens.</summary>
    public int OutputTokens => Pass == ReferencePass.Extract ? ImageTokens - ReferenceTokens : ImageTokens;

    // Extract: the reference tokens' modulation, from timestep 0.
    public Tensor? ReferenceTimestep { get; }
    public Tensor? ReferenceTemb { get; }
    public Tensor? ModDoubleImgReference { get; }
    public Tensor? ModSingleReference { get; }

    /// <summary>Cached: [B, Ltxt + Lref + Limg, 2D], the keys | values attention reads: the text's, the cache's, the image's.</summary>
    public Tensor? KeysValues { get; }

    // Time, guidance and the shared modulation vectors.
    public Tensor TimeProjection { get; }
    public Tensor GuidanceProjection { get; }
    public Tensor EmbedHidden { get; }
    public Tensor Temb { get; }
    public Tensor SiluTemb { get; }
    public Tensor ModDoubleImg { get; }
    public Tensor ModDoubleTxt { get; }
    public Tensor ModSingle { get; }
    public Tensor ModFinal { get; }

    // RoPE over the joint sequence (text rows first): Int64 ids and their Float32 tables.
    public Tensor Ids { get; }
    public Tensor TextIds { get; }
    public Tensor ImageIds { get; }
    public Tensor RopeCos { get; }
    public Tensor RopeSin { get; }

    // Double-stream blocks.
    public Tensor Img { get; }
    public Tensor Txt { get; }
    public Tensor ImgNormed { get; }
    public Tensor TxtNormed { get; }
    public Tensor ImgUpdate { get; }
    public Tensor TxtUpdate { get; }
    public Tensor ImgMlpHidden { get; }
    public Tensor TxtMlpHidden { get; }
    public Tensor ImgMlpGated { get; }
    public Tensor TxtMlpGated { get; }
    /// <summary>[B, Ltxt + Limg, 3D]: q | k | v of the joint sequence.</summary>
    public Tensor JointQkv { get; }
    /// <summary>[B, Ltxt + Limg, D]: the joint attention output.</summary>
    public Tensor JointAttention { get; }

    // Single-stream blocks.
    /// <summary>[B, Ltxt + Limg, D]: the joint hidden state h = [txt, img].</summary>
    public Tensor Hidden { get; }
    public Tensor HiddenNormed { get; }
    public Tensor HiddenUpdate { get; }
    /// <summary>[B, L, 3D + 2M]: the fused single-block projection [q | k | v | gate | up].</summary>
    public Tensor Fused { get; }
    /// <summary>[B, L, D + M]: [attention | MLP], the input of the single-block output projection.</summary>
    public Tensor AttentionAndMlp { get; }

    // Final layer.
    public Tensor FinalNormed { get; }

    // Per batch element b: views of rows of the tensors above.
    public Tensor[] ImgNormedRows { get; }
    public Tensor[] TxtNormedRows { get; }
    public Tensor[] ImgUpdateRows { get; }
    public Tensor[] TxtUpdateRows { get; }
    public Tensor[] ImgRows { get; }
    public Tensor[] TxtRows { get; }
    public Tensor[] QkvImgRows { get; }
    public Tensor[] QkvTxtRows { get; }
    public Tensor[] AttentionImgRows { get; }
    public Tensor[] AttentionTxtRows { get; }
    public Tensor[] HiddenImgRows { get; }
    public Tensor[] HiddenTxtRows { get; }
    public Tensor[] FinalNormedRows { get; }
    public Tensor[] ModFinalRows { get; }

    /// <param name="loraScratchWidth">the widest LoRA side-path intermediate per row, a stacked rank or a LoKr b·c (0: no side path)</param>
    /// <param name="imageTokens">the image stream's rows: with <see cref="ReferencePass.Extract"/>, the reference tokens then
    /// the noisy ones</param>
    public Flux2TransformerActivations(IBackend backend, Flux2Config config, int batch, int imageTokens, int textTokens, int loraScratchWidth = 0,
        ReferencePass pass = ReferencePass.None, int referenceTokens = 0)
    {
        _backend = backend;
        Batch = batch;
        ImageTokens = imageTokens;
        TextTokens = textTokens;
        Pass = pass;
        ReferenceTokens = referenceTokens;
        int d = config.InnerDim, m = config.MlpHidden, l = Tokens;

        TimeProjection = New(batch, config.TimestepGuidanceChannels);
        GuidanceProjection = New(batch, config.TimestepGuidanceChannels);
        EmbedHidden = New(batch, d);
        Temb = New(batch, d);
        SiluTemb = New(batch, d);
        ModDoubleImg = New(batch, 6 * d);
        ModDoubleTxt = New(batch, 6 * d);
        ModSingle = New(batch, 3 * d);
        ModFinal = New(batch, 2 * d);

        Ids = Own(backend.Allocate(DType.Int64, l, config.AxesDimsRope.Count));
        TextIds = Ids.Slice0(0, textTokens);
        ImageIds = Ids.Slice0(textTokens, imageTokens);
        RopeCos = Own(backend.Allocate(DType.Float32, l, config.AttentionHeadDim / 2));
        RopeSin = Own(backend.Allocate(DType.Float32, l, config.AttentionHeadDim / 2));

        Img = New(batch, imageTokens, d);
        Txt = New(batch, textTokens, d);
        ImgNormed = New(batch, imageTokens, d);
        TxtNormed = New(batch, textTokens, d);
        ImgUpdate = New(batch, imageTokens, d);
        TxtUpdate = New(batch, textTokens, d);
        ImgMlpHidden = New(batch, imageTokens, 2 * m);
        TxtMlpHidden = New(batch, textTokens, 2 * m);
        ImgMlpGated = New(batch, imageTokens, m);
        TxtMlpGated = New(batch, textTokens, m);
        JointQkv = New(batch, l, 3 * d);
        JointAttention = New(batch, l, d);

        Hidden = New(batch, l, d);
        HiddenNormed = New(batch, l, d);
        HiddenUpdate = New(batch, l, d);
        Fused = New(batch, l, 3 * d + 2 * m);
        AttentionAndMlp = New(batch, l, d + m);

        FinalNormed = New(batch, OutputTokens, d);
        if (pass == ReferencePass.Extract)
        {
            ReferenceTimestep = Own(backend.Upload<float>(new float[batch], batch));
            ReferenceTemb = New(batch, d);
            ModDoubleImgReference = New(batch, 6 * d);
            ModSingleReference = New(batch, 3 * d);
        }
        if (pass == ReferencePass.Cached) KeysValues = New(batch, textTokens + referenceTokens + imageTokens, 2 * d);
        // The largest input of a Linear has B·(Ltxt + Limg) rows (single blocks).
        if (loraScratchWidth > 0) _loraScratch = New(checked(batch * l * loraScratchWidth));

        ImgNormedRows = PerBatch(ImgNormed);
        TxtNormedRows = PerBatch(TxtNormed);
        ImgUpdateRows = PerBatch(ImgUpdate);
        TxtUpdateRows = PerBatch(TxtUpdate);
        ImgRows = PerBatch(Img);
        TxtRows = PerBatch(Txt);
        QkvTxtRows = JointRows(JointQkv, 0, textTokens);
        QkvImgRows = JointRows(JointQkv, textTokens, imageTokens);
        AttentionTxtRows = JointRows(JointAttention, 0, textTokens);
        AttentionImgRows = JointRows(JointAttention, textTokens, imageTokens);
        HiddenTxtRows = JointRows(Hidden, 0, textTokens);
        HiddenImgRows = JointRows(Hidden, textTokens, imageTokens);
        FinalNormedRows = PerBatch(FinalNormed);
        ModFinalRows = PerBatch(ModFinal);
    }

    public bool Fits(int batch, int imageTokens, int textTokens, ReferencePass pass, int referenceTokens) =>
        batch == Batch && imageTokens == ImageTokens && textTokens == TextTokens && pass == Pass && referenceTokens == ReferenceTokens;

    /// <summary>Rows [start, start + count) of batch element b of t [B, L, C] as a [1, count, C] view (made once, then kept).</summary>
    public Tensor Rows(Tensor t, int b, int start, int count)
    {
        if (!_rows.TryGetValue((t, b, start, count), out var view)) _rows[(t, b, start, count)] = view = t.SliceRows(b, start, count);
        return view;
    }

    /// <summary>Batch element b of a per-sample tensor [B, C] (a modulation) as a [1, C] view.</summary>
    public Tensor Row(Tensor t, int b)
    {
        if (!_rows.TryGetValue((t, b, -1, 0), out var view)) _rows[(t, b, -1, 0)] = view = t.Slice0(b, 1);
        return view;
    }

    /// <summary>The text ids of batch element 0: <paramref name="ids"/> [Ltxt, axes] itself, or a view into [B', Ltxt, axes].</summary>
    public Tensor FirstBatchTextIds(Tensor ids) => _textIdsView.Of(ids);

    /// <summary>The image ids of batch element 0, as <see cref="FirstBatchTextIds"/>.</summary>
    public Tensor FirstBatchImageIds(Tensor ids) => _imageIdsView.Of(ids);

    /// <summary>[rows, width]: x·Downᵀ of a LoRA side path (width = its rank) or a LoKr's products (width = b·c), a view of
    /// one scratch buffer (made once per shape, so steady state allocates nothing).</summary>
    public Tensor LoraProjection(int rows, int width)
    {
        if (!_loraProjections.TryGetValue((rows, width), out var t))
        {
            var scratch = _loraScratch ?? throw new InvalidOperationException("activations were sized without a LoRA side path");
            _loraProjections[(rows, width)] = t = scratch.Slice0(0, checked(rows * width)).Reshape(rows, width);
        }
        return t;
    }

    /// <summary>[rows, width]: a Linear's own product before it is scaled and added to an output that already holds a sum (a
    /// DoRA gain on the guidance embedder's last layer), allocated on first use.</summary>
    public Tensor ProductApart(int rows, int width)
    {
        if (!_apart.TryGetValue((rows, width), out var t)) _apart[(rows, width)] = t = New(rows, width);
        return t;
    }

    /// <summary>A buffer only tracing needs, allocated on first use.</summary>
    public Tensor TraceBuffer(string name, params int[] shape)
    {
        if (!_traceBuffers.TryGetValue(name, out var t)) _traceBuffers[name] = t = New(shape);
        return t;
    }

    private Tensor New(params int[] shape) => Own(_backend.Allocate(_backend.ActivationDType, shape));

    private Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    /// <summary>Batch element b of t as a [rows, width] view.</summary>
    private Tensor[] PerBatch(Tensor t)
    {
        int rows = t.Rank == 3 ? t.Shape[1] : 1;
        return Enumerable.Range(0, Batch).Select(b => t.Slice0(b, 1).Reshape(rows, t.Shape[^1])).ToArray();
    }

    /// <summary>Rows [start, start + count) of every batch element of a joint-sequence tensor [B, Ltxt + Limg, C].</summary>
    private Tensor[] JointRows(Tensor t, int start, int count) =>
        Enumerable.Range(0, Batch).Select(b => t.Reshape(Batch * Tokens, t.Shape[^1]).Slice0(b * Tokens + start, count)).ToArray();

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }

    /// <summary>Batch element 0 of rank-3 ids as a view, kept for the last tensor seen so that a caller passing the same
    /// ids every step allocates nothing.</summary>
    private sealed class FirstBatchView
    {
        private Tensor? _source, _view;

        public Tensor Of(Tensor ids)
        {
            if (ids.Rank == 2) return ids;
            if (!ReferenceEquals(ids, _source))
            {
                _view = ids.Slice0(0, 1).Reshape(ids.Shape[1], ids.Shape[2]);
                _source = ids;
            }
            return _view!;
        }
    }
}
