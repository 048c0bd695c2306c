using System.Numerics;

namespace Flux2.Models.Lora;

/// <summary>The products that turn an adapter's factors into the matrices the side paths run: a·b of two small factors, and
/// the Kronecker product A ⊗ B. Load-time work on host floats, not part of a forward pass.</summary>
internal static class FactorProducts
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
        for (int i = 0; i < a; i++)
            for (int k = 0; k < c; k++)
            {
                var row = product.AsSpan((i * c + k) * columns, columns);
                for (int j = 0; j < b; j++) AddScaled(first[i * b + j], second.AsSpan(k * d, d), row.Slice(j * d, d));
            }
        return product;
    }

    /// <summary>y += s·x.</summary>
    private static void AddScaled(float s, ReadOnlySpan<float> x, Span<float> y)
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
