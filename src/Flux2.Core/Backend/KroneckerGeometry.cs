namespace Flux2.Core.Backend;

/// <summary>The sizes of one <see cref="IBackend.KroneckerLinear"/>: <see cref="Rows"/> input rows, A [a, b] and B [c, d].</summary>
public readonly record struct KroneckerGeometry(int Rows, int A, int B, int C, int D)
{
    /// <summary>The geometry of <see cref="IBackend.KroneckerLinear"/>'s operands, checked: A a matrix, x [rows, b·d], the
    /// scratch [rows, b·c], y with the rows and the output columns, the output range within a·c, and the output scales (if
    /// any) Float32 [a·c]. The other element types are the backend's to check.</summary>
    /// <exception cref="ArgumentException">when the operands do not fit one Kronecker product</exception>
    public static KroneckerGeometry Of(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales)
    {
        if (first.Rank != 2) throw new ArgumentException($"{second.Name}: the Kronecker factor A must be a matrix, found {first.ShapeText}", nameof(first));
        int a = first.Shape[0], b = first.Shape[1], c = second.OutFeatures, d = second.InFeatures;
        int rows = RowsOf(x);
        if (Width(x) != (long)b * d)
            throw new ArgumentException($"{second.Name}: input {x.ShapeText} is not {b} blocks of {d} features", nameof(x));
        if (RowsOf(scratch) != rows || Width(scratch) != (long)b * c)
            throw new ArgumentException($"{second.Name}: scratch {scratch.ShapeText} must be [{rows}, {b}·{c}]", nameof(scratch));
        if (RowsOf(y) != rows) throw new ArgumentException($"{second.Name}: output {y.ShapeText} does not have {rows} rows", nameof(y));
        if (outputStart < 0 || outputCount < 0 || (long)outputStart + outputCount > (long)a * c)
            throw new ArgumentException($"{second.Name}: outputs [{outputStart}, {(long)outputStart + outputCount}) outside the {a}·{c} of A ⊗ B", nameof(outputStart));
        if (yColumn < 0 || (long)yColumn + outputCount > Width(y))
            throw new ArgumentException($"{second.Name}: columns [{yColumn}, {(long)yColumn + outputCount}) outside {y.ShapeText}", nameof(yColumn));
        if (outputScales != null && (outputScales.DType != DType.Float32 || outputScales.Length != (long)a * c))
            throw new ArgumentException($"{second.Name}: output scales {outputScales.ShapeText} {outputScales.DType} must be Float32 [{(long)a * c}]", nameof(outputScales));
        return new KroneckerGeometry(rows, a, b, c, d);
    }

    private static int Width(Tensor t) => t.Rank == 0 ? 1 : t.Shape[^1];

    private static int RowsOf(Tensor t) => Width(t) == 0 ? 0 : checked((int)(t.Length / Width(t)));
}
