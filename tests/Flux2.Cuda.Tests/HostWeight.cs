using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Cuda.Tests;

/// <summary>A Linear weight [N, K] stored in host memory in one of the float formats, as a loader describes a checkpoint's.</summary>
internal sealed unsafe class HostWeight : IDisposable
{
    private readonly void* _bytes;

    public HostWeight(WeightFormat format, float[] values, int outFeatures, int inFeatures)
    {
        int size = format == WeightFormat.Float32 ? 4 : 2;
        _bytes = NativeMemory.Alloc((nuint)(values.Length * size));
        for (int i = 0; i < values.Length; i++)
        {
            switch (format)
            {
                case WeightFormat.Float32: ((float*)_bytes)[i] = values[i]; break;
                case WeightFormat.BFloat16: ((ushort*)_bytes)[i] = BFloat16Bits.FromFloat(values[i]); break;
                case WeightFormat.Float16: ((Half*)_bytes)[i] = (Half)values[i]; break;
                default: throw new ArgumentException($"no host weight of {format}", nameof(format));
            }
        }
        Weight = new LinearWeight($"test.{format}", outFeatures, inFeatures, format, (nint)_bytes, owner: this);
    }

    public LinearWeight Weight { get; }

    public void Dispose() => NativeMemory.Free(_bytes);
}
