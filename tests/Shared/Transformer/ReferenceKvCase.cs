using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;

namespace Flux2.Tests;

/// <summary>
/// The klein 9B-KV case of tests/fixtures/kv (see its make.py): the tiny_klein golden weights, two samples with their own
/// timesteps, 16 text tokens, 64 image tokens and a 4×5 reference; the expected extract-step prediction, every layer's
/// reference keys and values, and the prediction of a later step from them. Inputs are uploaded to <see cref="Backend"/>.
/// </summary>
internal sealed class ReferenceKvCase : IDisposable
{
    private readonly List<Tensor> _owned = [];

    public ReferenceKvCase(IBackend backend)
    {
        Backend = backend;
        Io = SafeTensorsFile.Open(Fixtures.File("kv", "tiny_klein_kv.io.safetensors"));
    }

    public IBackend Backend { get; }
    public SafeTensorsFile Io { get; }
    public int ReferenceTokens => Shape("inputs.reference_tokens")[1];

    /// <summary>What a model gave: the extract step's prediction, the cache it returned (the caller disposes it) and the
    /// cached step's prediction, all downloaded but the cache.</summary>
    public (float[] Extract, ReferenceKvCache Cache, float[] Cached) Run(Flux2Transformer model)
    {
        var (hidden, ids) = ReferencesFirst();
        var encoder = Float("inputs.encoder_hidden_states");
        var txtIds = Long("inputs.txt_ids");
        var extract = Own(Backend.Allocate(DType.Float32, Shape("outputs.extract")));
        var cache = model.ForwardExtractingReferences(hidden, ReferenceTokens, encoder, Float("inputs.timestep"), null, ids, txtIds, extract);
        var cached = Own(Backend.Allocate(DType.Float32, Shape("outputs.cached")));
        model.ForwardWithReferenceCache(Float("inputs.hidden_states"), cache, encoder, Float("inputs.timestep_cached"), null, Long("inputs.img_ids"),
            txtIds, cached);
        return (Backend.DownloadFloat32(extract), cache, Backend.DownloadFloat32(cached));
    }

    public Tensor Float(string name) => Own(Backend.Upload<float>(Io.Get(name).ToFloat32Array(), Shape(name)));

    public Tensor Long(string name) => Own(Backend.Upload<long>(Io.Get(name).ToInt64Array(), Shape(name)));

    /// <summary>The reference tokens, then the noisy ones, per sample; ids likewise.</summary>
    public (Tensor Hidden, Tensor Ids) ReferencesFirst()
    {
        var refs = Io.Get("inputs.reference_tokens").ToFloat32Array();
        var noisy = Io.Get("inputs.hidden_states").ToFloat32Array();
        int[] shape = Shape("inputs.hidden_states");
        int batch = shape[0], n = shape[1], channels = shape[2], r = ReferenceTokens;
        var joined = new float[batch * (r + n) * channels];
        for (int b = 0; b < batch; b++)
        {
            Array.Copy(refs, b * r * channels, joined, b * (r + n) * channels, r * channels);
            Array.Copy(noisy, b * n * channels, joined, (b * (r + n) + r) * channels, n * channels);
        }
        long[] ids = [.. Io.Get("inputs.reference_ids").ToInt64Array(), .. Io.Get("inputs.img_ids").ToInt64Array()];
        return (Own(Backend.Upload<float>(joined, batch, r + n, channels)), Own(Backend.Upload<long>(ids, r + n, 4)));
    }

    public int[] Shape(string name) => Io.Get(name).Shape.Select(d => checked((int)d)).ToArray();

    public float[] Expected(string name) => Io.Get(name).ToFloat32Array();

    private Tensor Own(Tensor t)
    {
        _owned.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        Io.Dispose();
    }
}
