using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Models.Lora;

/// <summary>A side path's factor as a Linear weight over host memory, for <see cref="Core.Backend.IBackend.LoadLinear"/>.</summary>
internal static class FactorWeight
{
    /// <param name="values">[rows, columns], row-major, in pinned memory</param>
    /// <param name="format">Float32 (the values as they are) or BFloat16 (rounded into a pinned copy, for a backend whose products
    /// run on bf16 operands)</param>
    public static LinearWeight Of(string name, int rows, int columns, float[] values, WeightFormat format)
    {
        if (format == WeightFormat.Float32)
            return new LinearWeight(name, rows, columns, format, Marshal.UnsafeAddrOfPinnedArrayElement(values, 0), values);
        if (format != WeightFormat.BFloat16) throw new ArgumentException($"{name}: a LoRA factor is Float32 or BFloat16, not {format}", nameof(format));
        var rounded = GC.AllocateArray<ushort>(values.Length, pinned: true);
        for (int i = 0; i < values.Length; i++) rounded[i] = BFloat16Bits.FromFloat(values[i]);
        return new LinearWeight(name, rows, columns, format, Marshal.UnsafeAddrOfPinnedArrayElement(rounded, 0), rounded);
    }
}
