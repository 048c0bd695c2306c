using Flux2.Core;

namespace Flux2.Core.Decoding;

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
                FloatWidening.BFloat16ToSingle((ushort*)w.Data + offset, dst, count);
                break;
            case WeightFormat.Float16:
                FloatWidening.HalfToSingle((Half*)w.Data + offset, dst, count);
                break;
            case WeightFormat.Fp8E4M3:
                Fp8RowDecoder.Decode(w, row, k0, count, dst);
                break;
            case WeightFormat.Nvfp4:
                Nvfp4RowDecoder.Decode(w, row, k0, count, dst);
                break;
            case WeightFormat.GgmlBlocks:
                GgmlBlockDecoder.DecodeElements(w.BlockType, (byte*)w.Data + row * w.GgmlRowBytes, k0, count, dst);
                break;
            default:
                throw new NotSupportedException($"{w.Name}: weight format {w.Format} has no decoder yet");
        }
    }
}
