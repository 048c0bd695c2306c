using System.Numerics;
using System.Runtime.Intrinsics;

namespace Flux2.Models.Lora;

/// <summary>The products that turn an adapter's factors into the matrices the side paths run: a·b of two small factors, and
/// the Kronecker product A ⊗ B, whole or a row at a time. Load-time work on host floats, not part of a forward pass.</summary>
internal static unsafe class FactorProducts
{
    /// <summary>a [rows, inner] · b [inner, columns], row by row as sums of b's rows.</summary>
    public static float[] Multiply(float[] a, int rows, int inner, float[] b, int columns)
    {
        var product = new float[checked(rows * columns)];
        for (int r = 0; r < rows; r++)
        {
            var target = product.AsSpan(r * columns, columns);
            for (int p = 0; p < inner; p++) AddScaled(a[r * inner + p], b.AsSpan(p * columns, columns), target);
        }
        return product;
    }

    /// <summary>A [a, b] ⊗ B [c, d], [a·c, b·d]: element (i·c + k, j·d + l) is A[i, j]·B[k, l].</summary>
    public static float[] Kronecker(float[] first, int a, int b, float[] second, int c, int d)
    {
        int columns = checked(b * d);
        var product = new float[checked((long)a * c * columns)];
        for (int row = 0; row < a * c; row++) AddKroneckerRow(first, b, second, c, d, row, product.AsSpan(row * columns, columns));
        return product;
    }

    /// <summary>y += row <paramref name="outputRow"/> = i·c + k of A [a, b] ⊗ B [c, d]: block j of it is A[i, j] times row k of B.</summary>
    public static void AddKroneckerRow(float[] first, int b, float[] second, int c, int d, int outputRow, Span<float> y)
    {
        int i = outputRow / c, k = outputRow % c;
        for (int j = 0; j < b; j++) AddScaled(first[i * b + j], second.AsSpan(k * d, d), y.Slice(j * d, d));
    }

    /// <summary>y += a·x₀ + b·x₁ + c·x₂ + d·x₃, the four consecutive rows of y's length in <paramref name="rows"/>: y is
    /// loaded and stored once for four rows.</summary>
    public static void AddScaled4(ReadOnlySpan<float> rows, float a, float b, float c, float d, Span<float> y)
    {
        int n = y.Length;
        if (rows.Length != 4 * n) throw new ArgumentException($"four rows of {n} values expected, found {rows.Length} values", nameof(rows));
        fixed (float* x0 = rows, target = y)
        {
            float* x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b), vc = Vector256.Create(c), vd = Vector256.Create(d);
                for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                    Vector256.Store(Vector256.Load(target + i) + va * Vector256.Load(x0 + i) + vb * Vector256.Load(x1 + i)
                        + vc * Vector256.Load(x2 + i) + vd * Vector256.Load(x3 + i), target + i);
            }
            for (; i < n; i++) target[i] += a * x0[i] + b * x1[i] + c * x2[i] + d * x3[i];
        }
    }

    /// <summary>y += s·x.</summary>
    public static void AddScaled(float s, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var scale = new Vector<float>(s);
            for (; i + Vector<float>.Count <= x.Length; i += Vector<float>.Count)
                (new Vector<float>(y[i..]) + scale * new Vector<float>(x[i..])).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] += s * x[i];
    }
}
