using Flux2.Core.Decoding;
using Flux2.Core.Numerics;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Tests.Lora;

/// <summary>
/// DoRA magnitudes for the modules of a test adapter over a checkpoint, and the weight change they make: with W decoded from
/// the checkpoint as the GEMM decodes it, ΔW the adapter's update and c = m / (‖W + ΔW‖ + ε) per output row, the module's
/// change at strength 1 is c ⊙ (W + ΔW) − W (at strength s, s times it: ComfyUI's and LyCORIS' weight at s = 1, and a
/// linear blend with the stored weight below). Computed in double, this test's own.
/// </summary>
public sealed class TestDora : ITestAdapter
{
    private const double Epsilon = 1.1920929e-7;
    private readonly List<(string Module, double[] Delta)> _deltas = [];

    /// <summary>The magnitudes by module: bf16-representable, each row's norm of W times a factor in 1 ± <c>spread</c>.</summary>
    public IReadOnlyDictionary<string, float[]> Magnitudes { get; }

    /// <summary>Magnitudes for every module of <paramref name="adapter"/> over <paramref name="checkpoint"/> (the checkpoint the
    /// adapter's module names come from).</summary>
    public unsafe TestDora(string checkpoint, ITestAdapter adapter, int seed, double spread = 0.3)
    {
        var random = new Random(seed);
        var magnitudes = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var file = SafeTensorsCheckpoint.Open(checkpoint);
        foreach (var (module, delta) in adapter.Deltas())
        {
            var weight = LinearWeightLoader.Load(file, module + ".weight");
            int n = weight.OutFeatures, k = weight.InFeatures;
            var row = new float[k];
            var magnitude = new float[n];
            var change = new double[(long)n * k];
            for (int i = 0; i < n; i++)
            {
                fixed (float* p = row) WeightRowDecoder.Decode(weight, i, 0, k, p);
                double storedNorm = Math.Sqrt(row.Sum(v => (double)v * v)), norm = 0;
                for (int j = 0; j < k; j++)
                {
                    double v = row[j] + delta[(long)i * k + j];
                    norm += v * v;
                }
                double factor = 1 + spread * (random.NextDouble() * 2 - 1);
                magnitude[i] = BFloat16Bits.ToFloat(BFloat16Bits.FromFloat((float)(factor * storedNorm)));
                double c = magnitude[i] / (Math.Sqrt(norm) + Epsilon);
                for (int j = 0; j < k; j++)
                {
                    long e = (long)i * k + j;
                    change[e] = c * (row[j] + delta[e]) - row[j];
                }
            }
            magnitudes[module] = magnitude;
            _deltas.Add((module, change));
        }
        Magnitudes = magnitudes;
    }

    public IEnumerable<(string Module, double[] Delta)> Deltas() => _deltas;
}
