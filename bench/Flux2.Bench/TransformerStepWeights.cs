using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Models;
using Flux2.Models.Transformer;

namespace Flux2.Bench;

/// <summary>
/// Random bf16 weights for every tensor of a transformer config, in native memory (no file, no f32 copy): what the
/// model reads from a memory-mapped bf16 checkpoint. Filled in parallel, four bf16 values per 64-bit xorshift draw,
/// with magnitudes around 1/√K so activations stay finite.
/// </summary>
internal sealed unsafe class TransformerStepWeights : IDisposable
{
    private readonly Dictionary<string, LinearWeight> _linear = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _vectors = new(StringComparer.Ordinal);
    private readonly List<nint> _buffers = [];

    public long Bytes { get; }

    public TransformerStepWeights(Flux2Config config, TensorNaming naming)
    {
        int seed = 1;
        foreach (var e in Flux2WeightMap.ExpectedTensors(config, naming))
        {
            if (e.Shape.Length == 1)
            {
                _vectors[e.Name] = Enumerable.Repeat(1f, (int)e.Shape[0]).ToArray();
                continue;
            }
            int n = checked((int)e.Shape[0]), k = checked((int)e.Shape[1]);
            long count = (long)n * k;
            var data = (ushort*)NativeMemory.AlignedAlloc((nuint)((count + 3) / 4 * 8), 64);
            _buffers.Add((nint)data);
            Fill(data, count, k, seed++);
            _linear[e.Name] = new LinearWeight(e.Name, n, k, WeightFormat.BFloat16, (nint)data, this);
            Bytes += count * 2;
        }
    }

    public LinearWeight Linear(string name) => _linear[name];

    public float[] Vector(string name) => _vectors[name];

    /// <summary>bf16 values ±[2^e, 2^(e+4)) with 2^(e+2) ≈ 1/√K: each 16-bit lane of a xorshift draw keeps its sign bit,
    /// 2 exponent bits and 7 mantissa bits, and the base exponent is added to the exponent field (no carry into the sign).</summary>
    private static void Fill(ushort* data, long count, int k, int seed)
    {
        const long chunk = 1 << 18; // in 4-value words
        ulong exponent = (ulong)(127 + (int)Math.Round(-0.5 * Math.Log2(k)) - 2);
        ulong baseBits = exponent << 7 | exponent << 23 | exponent << 39 | exponent << 55;
        long words = (count + 3) / 4;
        var output = (ulong*)data;
        Parallel.For(0L, (words + chunk - 1) / chunk, c =>
        {
            ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(c + 1) * 0xD1B54A32D192ED03UL;
            long end = Math.Min(words, (c + 1) * chunk);
            for (long i = c * chunk; i < end; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                output[i] = (state & 0x81FF_81FF_81FF_81FFUL) + baseBits;
            }
        });
    }

    public void Dispose()
    {
        foreach (var p in _buffers) NativeMemory.AlignedFree((void*)p);
        _buffers.Clear();
    }
}
