using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>
/// klein 9B-KV's reference cache (spec §3.11) on the tiny_klein golden weights, both namings, against
/// tests/fixtures/kv/tiny_klein_kv.io.safetensors: a float64 transcription of diffusers' <c>kv_cache_mode</c> paths whose
/// standard mode reproduces the upstream tiny_klein golden (see its make.py). Two samples with their own timesteps, 16
/// text tokens, 64 image tokens and a 4×5 reference.
/// </summary>
public class Flux2TransformerReferenceKvTests
{
    private const float Tolerance = 1e-4f;
    private const int Layers = 4; // tiny_klein: 2 double + 2 single blocks

    public static IEnumerable<object[]> Cases =>
        from naming in new[] { "bfl", "diffusers" }
        from backend in TestBackends.Names
        select new object[] { naming, backend };

    private sealed class Case : IDisposable
    {
        private readonly List<Tensor> _owned = [];

        public Case(IBackend backend)
        {
            Backend = backend;
            Io = SafeTensorsFile.Open(Fixtures.File("kv", "tiny_klein_kv.io.safetensors"));
        }

        public IBackend Backend { get; }
        public SafeTensorsFile Io { get; }

        public Tensor Float(string name) => Own(Backend.Upload<float>(Io.Get(name).ToFloat32Array(), Shape(name)));

        public Tensor Long(string name) => Own(Backend.Upload<long>(Io.Get(name).ToInt64Array(), Shape(name)));

        /// <summary>The reference tokens, then the noisy ones, per sample; ids likewise.</summary>
        public (Tensor Hidden, Tensor Ids) ReferencesFirst()
        {
            var refs = Io.Get("inputs.reference_tokens").ToFloat32Array();
            var noisy = Io.Get("inputs.hidden_states").ToFloat32Array();
            int batch = Shape("inputs.hidden_states")[0], channels = Shape("inputs.hidden_states")[2];
            int r = Shape("inputs.reference_tokens")[1], n = Shape("inputs.hidden_states")[1];
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
            if (Backend != TransformerGolden.Cpu) Backend.Dispose();
        }
    }

    private static IBackend Backend(string name) => name == TestBackends.Cpu ? TransformerGolden.Cpu : TestBackends.Create(name);

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float diff = FloatComparison.MaxAbsDiff(expected, actual);
        Assert.True(diff <= Tolerance, $"{what}: max abs error {diff}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtractingThenUsingTheCacheMatchesTheReference(string naming, string backendName)
    {
        using var c = new Case(Backend(backendName));
        using var model = Flux2Transformer.Load(Fixtures.Golden($"tiny_klein.{naming}.safetensors"), c.Backend);
        var (hidden, ids) = c.ReferencesFirst();
        int references = c.Shape("inputs.reference_tokens")[1];
        var encoder = c.Float("inputs.encoder_hidden_states");
        var txtIds = c.Long("inputs.txt_ids");
        using var output = c.Backend.Allocate(DType.Float32, c.Shape("outputs.extract"));

        using var cache = model.ForwardExtractingReferences(hidden, references, encoder, c.Float("inputs.timestep"), null, ids, txtIds, output);
        AssertClose(c.Expected("outputs.extract"), c.Backend.DownloadFloat32(output), "extract");
        Assert.Equal(references, cache.ReferenceTokens);
        for (int layer = 0; layer < Layers; layer++)
            for (int b = 0; b < cache.Batch; b++)
            {
                var stored = c.Backend.DownloadFloat32(cache.Rows(layer, b));
                int d = stored.Length / references / 2;
                var keys = new float[references * d];
                var values = new float[references * d];
                for (int t = 0; t < references; t++)
                {
                    Array.Copy(stored, t * 2 * d, keys, t * d, d);
                    Array.Copy(stored, t * 2 * d + d, values, t * d, d);
                }
                AssertClose(c.Expected($"outputs.cache.{layer}.k").AsSpan(b * references * d, references * d).ToArray(), keys, $"layer {layer} keys");
                AssertClose(c.Expected($"outputs.cache.{layer}.v").AsSpan(b * references * d, references * d).ToArray(), values, $"layer {layer} values");
            }

        using var cached = c.Backend.Allocate(DType.Float32, c.Shape("outputs.cached"));
        model.ForwardWithReferenceCache(c.Float("inputs.hidden_states"), cache, encoder, c.Float("inputs.timestep_cached"), null, c.Long("inputs.img_ids"),
            txtIds, cached);
        AssertClose(c.Expected("outputs.cached"), c.Backend.DownloadFloat32(cached), "cached");
    }

    [Fact]
    public void StandardPassesAroundAKvPassAreUnchanged()
    {
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "diffusers");
        using var before = golden.Run(model);
        using var c = new Case(TransformerGolden.Cpu);
        var (hidden, ids) = c.ReferencesFirst();
        using var output = Tensor.Zeros(c.Shape("outputs.extract"));
        using (model.ForwardExtractingReferences(hidden, c.Shape("inputs.reference_tokens")[1], c.Float("inputs.encoder_hidden_states"),
                   c.Float("inputs.timestep"), null, ids, c.Long("inputs.txt_ids"), output)) { }
        using var after = golden.Run(model);
        Assert.Equal(before.ToArray<float>(), after.ToArray<float>());
        AssertClose(golden.Expected("outputs.sample"), after.ToArray<float>(), "standard");
    }

    [Fact]
    public void MisfitReferenceCountsAndCachesAreRefused()
    {
        using var model = TransformerGolden.Load("tiny_klein", "bfl");
        using var c = new Case(TransformerGolden.Cpu);
        var (hidden, ids) = c.ReferencesFirst();
        var encoder = c.Float("inputs.encoder_hidden_states");
        var timestep = c.Float("inputs.timestep");
        var txtIds = c.Long("inputs.txt_ids");
        int tokens = hidden.Shape[1];
        using var output = Tensor.Zeros(2, tokens, 128);
        foreach (int count in (int[])[0, tokens])
        {
            var e = Assert.Throws<Flux2Exception>(() => model.ForwardExtractingReferences(hidden, count, encoder, timestep, null, ids, txtIds, output));
            Assert.Contains($"reference tokens: expected 1 to {tokens - 1}", e.Message);
        }
        // A cache of one sample for a batch of two.
        using var one = Tensor.Zeros(1, tokens - 20, 128);
        using var cache = model.ForwardExtractingReferences(hidden.Slice0(0, 1), 20, encoder.Slice0(0, 1), timestep.Slice0(0, 1), null, ids, txtIds, one);
        using var cachedOutput = Tensor.Zeros(2, tokens - 20, 128);
        var refused = Assert.Throws<Flux2Exception>(() => model.ForwardWithReferenceCache(c.Float("inputs.hidden_states"), cache, encoder, timestep, null,
            c.Long("inputs.img_ids"), txtIds, cachedOutput));
        Assert.Contains("the reference cache holds 1 samples", refused.Message);
    }
}
