using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Models;
using Flux2.Models.Quantization;
using Flux2.Models.Transformer;

namespace Flux2.Bench;

/// <summary>
/// Random weights for every tensor of a transformer config, in native memory (no file, no f32 copy): what the
/// model reads from a memory-mapped checkpoint. bf16 everywhere, or, with a quantized format, FP8 / NVFP4 payloads
/// for the Linears that format's published layout quantizes (BFL naming). Filled in parallel from 64-bit xorshift
/// draws, with magnitudes around 1/√K so activations stay finite.
/// </summary>
internal sealed unsafe class TransformerStepWeights : IDisposable
{
    private readonly Dictionary<string, LinearWeight> _linear = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _vectors = new(StringComparer.Ordinal);
    private readonly List<nint> _buffers = [];

    public long Bytes { get; private set; }

    public TransformerStepWeights(Flux2Config config, TensorNaming naming, QuantizedCheckpointFormat? quantized = null)
    {
        if (quantized != null && naming != TensorNaming.Bfl) throw new ArgumentException("quantized weights use BFL naming", nameof(naming));
        var quantizedLayers = quantized == null
            ? new HashSet<string>()
            : Flux2CheckpointQuantizer.QuantizedLayers(quantized.Value, config).Select(l => l + ".weight").ToHashSet(StringComparer.Ordinal);
        int seed = 1;
        foreach (var e in Flux2WeightMap.ExpectedTensors(config, naming))
        {
            if (e.Shape.Length == 1)
            {
                _vectors[e.Name] = Enumerable.Repeat(1f, (int)e.Shape[0]).ToArray();
                continue;
            }
            int n = checked((int)e.Shape[0]), k = checked((int)e.Shape[1]);
            _linear[e.Name] = !quantizedLayers.Contains(e.Name) ? Bf16(e.Name, n, k, seed++)
                : quantized == QuantizedCheckpointFormat.Fp8 ? Fp8(e.Name, n, k, seed++)
                : Nvfp4(e.Name, n, k, seed++);
        }
    }

    private LinearWeight Bf16(string name, int n, int k, int seed)
    {
        // bf16 values ±[2^e, 2^(e+4)) with 2^(e+2) ≈ 1/√K: each 16-bit lane keeps its sign bit, 2 exponent bits and
        // 7 mantissa bits, and the base exponent is added to the exponent field (no carry into the sign).
        ulong exponent = (ulong)(127 + (int)Math.Round(-0.5 * Math.Log2(k)) - 2);
        ulong baseBits = exponent << 7 | exponent << 23 | exponent << 39 | exponent << 55;
        var data = Allocate((long)n * k * 2);
        Fill(data, (long)n * k * 2, 0x81FF_81FF_81FF_81FFUL, baseBits, seed);
        return new LinearWeight(name, n, k, WeightFormat.BFloat16, data, this);
    }

    private LinearWeight Fp8(string name, int n, int k, int seed)
    {
        // E4M3 bytes ±(1 + m/8)·2^-1 (sign and mantissa random, exponent fixed at 6), scaled by 1/√K.
        var data = Allocate((long)n * k);
        Fill(data, (long)n * k, 0x8787_8787_8787_8787UL, 0x3030_3030_3030_3030UL, seed);
        return new LinearWeight(name, n, k, WeightFormat.Fp8E4M3, data, this, tensorScale: 1f / MathF.Sqrt(k));
    }

    private LinearWeight Nvfp4(string name, int n, int k, int seed)
    {
        // Any E2M1 code pair per byte; every block scale 1.0 (E4M3 0x38) in the swizzled layout the shapes allow.
        var data = Allocate((long)n * k / 2);
        Fill(data, (long)n * k / 2, ulong.MaxValue, 0, seed);
        int scaleColumns = k / 16;
        bool swizzled = n % 128 == 0 && scaleColumns % 4 == 0;
        long scaleBytes = (long)n * scaleColumns;
        var scales = Allocate(scaleBytes);
        new Span<byte>((void*)scales, checked((int)scaleBytes)).Fill(0x38);
        return new LinearWeight(name, n, k, WeightFormat.Nvfp4, data, this, blockScales: scales, scalesSwizzled: swizzled,
            scaleColumns: scaleColumns, tensorScale: 1f / (3 * MathF.Sqrt(k)));
    }

    private nint Allocate(long bytes)
    {
        var p = (nint)NativeMemory.AlignedAlloc((nuint)((bytes + 7) / 8 * 8), 64);
        _buffers.Add(p);
        Bytes += bytes;
        return p;
    }

    public LinearWeight Linear(string name) => _linear[name];

    public float[] Vector(string name) => _vectors[name];

    /// <summary>Fills <paramref name="bytes"/> (rounded up to whole 64-bit words) with (draw &amp; mask) + baseBits per word.</summary>
    private static void Fill(nint data, long bytes, ulong mask, ulong baseBits, int seed)
    {
        const long chunk = 1 << 18; // in 64-bit words
        long words = (bytes + 7) / 8;
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
                output[i] = (state & mask) + baseBits;
            }
        });
    }

    public void Dispose()
    {
        foreach (var p in _buffers) NativeMemory.AlignedFree((void*)p);
        _buffers.Clear();
    }
}
