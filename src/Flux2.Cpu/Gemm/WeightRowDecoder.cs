using Flux2.Core;
using Flux2.Core.Numerics;

namespace Flux2.Cpu.Gemm;

/// <summary>Decodes a segment of one weight row to fp32: W[row, k0 .. k0+count) → dst[0 .. count).
/// This is the contract every stored format implements for the GEMM's panel packing.</summary>
public static unsafe class WeightRowDecoder
{
    public static void Decode(LinearWeight w, int row, int k0, int count, float* dst)
    {
        long offset = (long)row * w.InFeatures + k0;
        switch (w.Format)
        {
            case WeightFormat.Float32:
                new ReadOnlySpan<float>((float*)w.Data + offset, count).CopyTo(new Span<float>(dst, count));
                break;
            case WeightFormat.BFloat16:
            {
                ushort* src = (ushort*)w.Data + offset;
                for (int i = 0; i < count; i++) dst[i] = BFloat16Bits.ToFloat(src[i]);
                break;
            }
            case WeightFormat.Float16:
            {
                Half* src = (Half*)w.Data + offset;
                for (int i = 0; i < count; i++) dst[i] = (float)src[i];
                break;
            }
            default:
                throw new NotSupportedException($"{w.Name}: weight format {w.Format} has no decoder yet");
        }
    }
}
