using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Core.Quantization;

namespace Flux2.Cuda.Tests;

/// <summary>A Linear weight [N, K] stored in host memory in one of the float formats, or quantized to FP8 / NVFP4 (with their
/// scales, as the checkpoint quantizer writes them), as a loader describes a checkpoint's.</summary>
internal sealed unsafe class HostWeight : IDisposable
{
    private readonly void* _bytes;
    private readonly void* _scales;

    public HostWeight(WeightFormat format, float[] values, int outFeatures, int inFeatures)
    {
        string name = $"test.{format}";
        switch (format)
        {
            case WeightFormat.Fp8E4M3:
            {
                var q = Fp8Quantizer.Quantize(values, name);
                _bytes = Copy(q.Weight);
                Weight = new LinearWeight(name, outFeatures, inFeatures, format, (nint)_bytes, owner: this, tensorScale: q.WeightScale);
                return;
            }
            case WeightFormat.Nvfp4:
            {
                var q = Nvfp4Quantizer.Quantize(values, outFeatures, inFeatures, name);
                _bytes = Copy(q.Weight);
                _scales = Copy(q.Scales);
                Weight = new LinearWeight(name, outFeatures, inFeatures, format, (nint)_bytes, owner: this, blockScales: (nint)_scales,
                    scalesSwizzled: q.Swizzled, scaleColumns: inFeatures / Nvfp4Quantizer.BlockSize, tensorScale: q.WeightScale2);
                return;
            }
        }
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
        Weight = new LinearWeight(name, outFeatures, inFeatures, format, (nint)_bytes, owner: this);
    }

    public LinearWeight Weight { get; }

    private static void* Copy(byte[] source)
    {
        void* copy = NativeMemory.Alloc((nuint)source.Length);
        source.CopyTo(new Span<byte>(copy, source.Length));
        return copy;
    }

    public void Dispose()
    {
        NativeMemory.Free(_bytes);
        NativeMemory.Free(_scales);
    }
}
