using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Bench;

/// <summary>Random bf16 Linear weights in native memory (no file, no f32 copy), owned until disposed: uniform values with the
/// variance of N(0, 1/fan_in), so activations stay finite through many layers.</summary>
internal sealed unsafe class RandomBf16Weights : IDisposable
{
    private readonly List<nint> _buffers = [];
    public long Bytes { get; private set; }

    /// <summary>Uniform values with the variance of N(0, 1/fan_in), rounded to bf16, filled on all threads.</summary>
    public LinearWeight RandomBf16(string name, int rows, int cols)
    {
        long count = (long)rows * cols;
        var data = (ushort*)NativeMemory.AlignedAlloc((nuint)(count * 2), 64);
        _buffers.Add((nint)data);
        Bytes += count * 2;
        float scale = MathF.Sqrt(3f / cols);
        Parallel.For(0, rows, r =>
        {
            uint state = (uint)(r * 2654435761u) ^ (uint)name.GetHashCode() | 1;
            ushort* row = data + (long)r * cols;
            for (int i = 0; i < cols; i++)
            {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                row[i] = BFloat16Bits.FromFloat((state * (1f / uint.MaxValue) * 2 - 1) * scale);
            }
        });
        return new LinearWeight(name, rows, cols, WeightFormat.BFloat16, (nint)data, this);
    }

    public void Dispose()
    {
        foreach (var p in _buffers) NativeMemory.AlignedFree((void*)p);
        _buffers.Clear();
    }
}
