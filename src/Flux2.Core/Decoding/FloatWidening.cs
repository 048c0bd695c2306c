using System.Numerics;

namespace Flux2.Core.Decoding;

/// <summary>Vectorized widening of 16-bit floats to fp32; both conversions are exact for every input.</summary>
public static unsafe class FloatWidening
{
    private static readonly float TwoPow112 = MathF.ScaleB(1f, 112);

    public static void BFloat16ToSingle(ushort* src, float* dst, int count)
    {
        int i = 0;
        int step = Vector<ushort>.Count;
        for (; i <= count - step; i += step)
        {
            Vector.Widen(Vector.Load(src + i), out Vector<uint> lo, out Vector<uint> hi);
            // bf16 is the high half of an fp32 bit pattern.
            Vector.Store(Vector.AsVectorSingle(Vector.ShiftLeft(lo, 16)), dst + i);
            Vector.Store(Vector.AsVectorSingle(Vector.ShiftLeft(hi, 16)), dst + i + step / 2);
        }
        for (; i < count; i++) dst[i] = BitConverter.UInt32BitsToSingle((uint)src[i] << 16);
    }

    public static void HalfToSingle(Half* src, float* dst, int count)
    {
        int i = 0;
        int step = Vector<ushort>.Count;
        for (; i <= count - step; i += step)
        {
            Vector.Widen(Vector.Load((ushort*)src + i), out Vector<uint> lo, out Vector<uint> hi);
            Vector.Store(HalfBitsToSingle(lo), dst + i);
            Vector.Store(HalfBitsToSingle(hi), dst + i + step / 2);
        }
        for (; i < count; i++) dst[i] = (float)src[i];
    }

    /// <summary>Moves exponent+mantissa into fp32 position and rescales by 2^112 (the bias difference), which also
    /// normalises subnormals; infinities and NaNs get the fp32 all-ones exponent instead.</summary>
    private static Vector<float> HalfBitsToSingle(Vector<uint> h)
    {
        Vector<uint> sign = Vector.ShiftLeft(h & new Vector<uint>(0x8000), 16);
        Vector<uint> magnitude = h & new Vector<uint>(0x7FFF);
        Vector<uint> shifted = Vector.ShiftLeft(magnitude, 13);
        Vector<uint> finite = Vector.AsVectorUInt32(Vector.AsVectorSingle(shifted) * new Vector<float>(TwoPow112));
        Vector<uint> special = shifted | new Vector<uint>(0x7F80_0000);
        Vector<uint> isSpecial = Vector.GreaterThanOrEqual(magnitude, new Vector<uint>(0x7C00));
        return Vector.AsVectorSingle(Vector.ConditionalSelect(isSpecial, special, finite) | sign);
    }
}
