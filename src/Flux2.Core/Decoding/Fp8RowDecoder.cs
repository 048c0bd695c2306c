using Flux2.Core.Numerics;
using System.Numerics;
using Flux2.Core;
using Flux2.Core.Quantization;

namespace Flux2.Core.Decoding;

/// <summary>FP8 (e4m3fn, per-tensor scale) row segments to fp32: W[row, k] = E4M3(w[row, k]) · TensorScale,
/// one rounding, bit-exact with the table decode.</summary>
public static unsafe class Fp8RowDecoder
{
    public static void Decode(LinearWeight w, int row, int k0, int count, float* dst)
    {
        byte* src = (byte*)w.Data + (long)row * w.InFeatures + k0;
        int done = Vector.IsHardwareAccelerated ? DecodeVector(src, count, w.TensorScale, dst) : 0;
        DecodeScalar(src + done, count - done, w.TensorScale, dst + done);
    }

    /// <summary>The oracle: table lookup and one multiply per element.</summary>
    public static void DecodeScalar(byte* src, int count, float scale, float* dst)
    {
        for (int i = 0; i < count; i++) dst[i] = E4M3.Decode(src[i]) * scale;
    }

    /// <summary>Decodes whole vectors of bytes; returns how many elements it did.</summary>
    private static int DecodeVector(byte* src, int count, float scale, float* dst)
    {
        int step = Vector<byte>.Count, quarter = Vector<uint>.Count;
        var s = new Vector<float>(scale);
        int i = 0;
        for (; i <= count - step; i += step)
        {
            Vector.Widen(Vector.Load(src + i), out Vector<ushort> lo, out Vector<ushort> hi);
            Vector.Widen(lo, out Vector<uint> q0, out Vector<uint> q1);
            Vector.Widen(hi, out Vector<uint> q2, out Vector<uint> q3);
            Vector.Store(ToSingle(q0) * s, dst + i);
            Vector.Store(ToSingle(q1) * s, dst + i + quarter);
            Vector.Store(ToSingle(q2) * s, dst + i + 2 * quarter);
            Vector.Store(ToSingle(q3) * s, dst + i + 3 * quarter);
        }
        return i;
    }

    /// <summary>Exact E4M3 → fp32 without a table: normals move exponent and mantissa into fp32 position and
    /// rebias the exponent by 120; subnormals (exponent 0) are m·2^-9; 0x7F / 0xFF are NaN. Never touches fp32
    /// subnormals, which would be slow.</summary>
    private static Vector<float> ToSingle(Vector<uint> b)
    {
        Vector<uint> magnitude = b & new Vector<uint>(0x7F);
        Vector<uint> sign = Vector.ShiftLeft(b & new Vector<uint>(0x80), 24);
        Vector<uint> normal = Vector.ShiftLeft(magnitude, 20) + new Vector<uint>(120u << 23);
        Vector<uint> subnormal = Vector.AsVectorUInt32(Vector.ConvertToSingle(magnitude) * new Vector<float>(1f / 512));
        Vector<uint> value = Vector.ConditionalSelect(Vector.LessThan(magnitude, new Vector<uint>(8)), subnormal, normal);
        value = Vector.ConditionalSelect(Vector.Equals(magnitude, new Vector<uint>(0x7F)), new Vector<uint>(0x7FC0_0000), value);
        return Vector.AsVectorSingle(value | sign);
    }
}
