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
        var backend = Backend(backendName);
        try
        {
            using var c = new ReferenceKvCase(backend);
            using var model = Flux2Transformer.Load(Fixtures.Golden($"tiny_klein.{naming}.safetensors"), backend);
            var (extract, cache, cached) = c.Run(model);
            using (cache)
            {
                AssertClose(c.Expected("outputs.extract"), extract, "extract");
                AssertClose(c.Expected("outputs.cached"), cached, "cached");
                Assert.Equal(c.ReferenceTokens, cache.ReferenceTokens);
                for (int layer = 0; layer < Layers; layer++)
                    for (int b = 0; b < cache.Batch; b++)
                        AssertLayer(c, backend.DownloadFloat32(cache.Rows(layer, b)), layer, b);
            }
        }
        finally
        {
            if (backend != TransformerGolden.Cpu) backend.Dispose();
        }
    }

    /// <summary>A cache row of keys then values per token against the fixture's separate keys and values.</summary>
    private static void AssertLayer(ReferenceKvCase c, float[] stored, int layer, int b)
    {
        int references = c.ReferenceTokens, d = stored.Length / references / 2;
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

    [Fact]
    public void StandardPassesAroundAKvPassAreUnchanged()
    {
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "diffusers");
        using var before = golden.Run(model);
        using var c = new ReferenceKvCase(TransformerGolden.Cpu);
        var (hidden, ids) = c.ReferencesFirst();
        using var output = Tensor.Zeros(c.Shape("outputs.extract"));
        using (model.ForwardExtractingReferences(hidden, c.ReferenceTokens, c.Float("inputs.encoder_hidden_states"),
                   c.Float("inputs.timestep"), null, ids, c.Long("inputs.txt_ids"), output)) { }
        using var after = golden.Run(model);
        Assert.Equal(before.ToArray<float>(), after.ToArray<float>());
        AssertClose(golden.Expected("outputs.sample"), after.ToArray<float>(), "standard");
    }

    [Fact]
    public void MisfitReferenceCountsAndCachesAreRefused()
    {
        using var model = TransformerGolden.Load("tiny_klein", "bfl");
        using var c = new ReferenceKvCase(TransformerGolden.Cpu);
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
