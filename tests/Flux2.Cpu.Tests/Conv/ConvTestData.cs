using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Cpu.Tests.Conv;

/// <summary>Random tensors and conv weights for the image-op tests.</summary>
internal static class ConvTestData
{
    public static Tensor Random(Random rng, float scale, float offset, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.AsSpan<float>();
        for (int i = 0; i < s.Length; i++) s[i] = offset + scale * (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    /// <summary>A [cout, cin·k·k] weight with entries of size ~1/√fan_in, stored in <paramref name="format"/>.</summary>
    public static LinearWeight Weight(Random rng, int cout, int patchLength, WeightFormat format)
    {
        int n = cout * patchLength;
        float bound = 1f / MathF.Sqrt(patchLength);
        Array data = format switch
        {
            WeightFormat.Float32 => GC.AllocateArray<float>(n, pinned: true),
            WeightFormat.BFloat16 => GC.AllocateArray<ushort>(n, pinned: true),
            WeightFormat.Float16 => GC.AllocateArray<Half>(n, pinned: true),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        for (int i = 0; i < n; i++)
        {
            float v = bound * (float)(rng.NextDouble() * 2 - 1);
            switch (data)
            {
                case float[] f: f[i] = v; break;
                case ushort[] b: b[i] = BFloat16Bits.FromFloat(v); break;
                case Half[] h: h[i] = (Half)v; break;
            }
        }
        return new LinearWeight($"conv.{format}", cout, patchLength, format, Marshal.UnsafeAddrOfPinnedArrayElement(data, 0), data);
    }
}
