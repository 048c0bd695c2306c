using Flux2.Core.Backend;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>klein 9B-KV's reference cache (spec §3.11) on the GPU: the extract step's prediction, every layer's reference
/// keys and values, and a later step's prediction from them, against tests/fixtures/kv on both namings; the tolerances of
/// <see cref="GpuTransformerGoldenTests"/>. Skipped without a GPU.</summary>
public sealed class GpuTransformerReferenceKvTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    public static TheoryData<string, ComputePrecision> Cases()
    {
        var data = new TheoryData<string, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
            foreach (var naming in new[] { "bfl", "diffusers" })
                data.Add(naming, precision);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExtractThenCachedMatchTheReference(string naming, ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var c = new ReferenceKvCase(gpu);
        using var model = Flux2Transformer.Load(Fixtures.Golden($"tiny_klein.{naming}.safetensors"), gpu);
        var (extract, cache, cached) = c.Run(model);
        using (cache)
        {
            Check($"klein-kv extract ({naming})", c.Expected("outputs.extract"), extract);
            Check($"klein-kv cached ({naming})", c.Expected("outputs.cached"), cached);
        }

        void Check(string what, float[] expected, float[] actual)
        {
            if (precision == ComputePrecision.BFloat16)
                GpuComparison.AssertClose(what, precision, expected, actual, GpuTransformerGoldenTests.BFloat16Tolerance);
            else
                GpuComparison.AssertMaxAbs(what, precision, expected, actual, GpuTransformerGoldenTests.ExactTolerance);
        }
    }
}
