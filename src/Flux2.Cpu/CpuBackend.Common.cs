using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Kernels;

namespace Flux2.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false)
    {
        int rows = Rows(x, nameof(x));
        if (Width(x) != weight.InFeatures)
            throw new ArgumentException($"{weight.Name}: input {x.ShapeText} does not have {weight.InFeatures} features", nameof(x));
        CheckRows(y, rows, nameof(y));
        CheckColumns(y, yColumn, weight.OutFeatures, nameof(y));
        Gemm.Gemm.Multiply(x.Float32Pointer, rows, Width(x), weight, y.Float32Pointer + yColumn, Width(y), accumulate, Pool, _bf16);
    }

    public void KroneckerLinear(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales = null)
    {
        CheckFloat32(x, nameof(x));
        CheckFloat32(first, nameof(first));
        CheckFloat32(scratch, nameof(scratch));
        CheckFloat32(y, nameof(y));
        var g = KroneckerGeometry.Of(x, first, second, scratch, y, yColumn, outputStart, outputCount, outputScales);
        Gemm.Gemm.Multiply(x.Float32Pointer, g.Rows * g.B, g.D, second, scratch.Float32Pointer, g.C, accumulate: false, Pool, _bf16);
        KroneckerMix.Run(Pool, scratch.Float32Pointer, g.Rows, first.Float32Pointer, g.B, g.C, outputStart, outputCount, y.Float32Pointer + yColumn, Width(y),
            outputScales == null ? null : outputScales.Float32Pointer);
    }

    public void ScaleColumns(Tensor x, int xColumn, Tensor scales, Tensor y, int yColumn, bool accumulate = false)
    {
        CheckFloat32(x, nameof(x));
        CheckFloat32(scales, nameof(scales));
        CheckFloat32(y, nameof(y));
        int rows = Rows(x, nameof(x)), width = checked((int)scales.Length);
        CheckRows(y, rows, nameof(y));
        CheckColumns(x, xColumn, width, nameof(xColumn));
        CheckColumns(y, yColumn, width, nameof(yColumn));
        ColumnScale.Run(Pool, x.Float32Pointer + xColumn, Width(x), scales.Float32Pointer, y.Float32Pointer + yColumn, Width(y), rows, width, accumulate);
    }

    public void ModulatedLayerNorm(Tensor x, Tensor y, Tensor modulation, int shiftColumn, int scaleColumn, float eps)
    {
        var (batch, length, width) = Batched(x, modulation, nameof(x));
        CheckSameShape(x, y, nameof(y));
        CheckColumns(modulation, shiftColumn, width, nameof(shiftColumn));
        CheckColumns(modulation, scaleColumn, width, nameof(scaleColumn));
        for (int b = 0; b < batch; b++)
        {
            long offset = (long)b * length * width;
            float* mod = modulation.Float32Pointer + (long)b * Width(modulation);
            Kernels.ModulatedLayerNorm.Run(Pool, x.Float32Pointer + offset, y.Float32Pointer + offset, length, width, mod + shiftColumn, mod + scaleColumn, eps);
        }
    }

    public void AddGated(Tensor x, Tensor y, Tensor modulation, int gateColumn)
    {
        var (batch, length, width) = Batched(x, modulation, nameof(x));
        CheckSameShape(x, y, nameof(y));
        CheckColumns(modulation, gateColumn, width, nameof(gateColumn));
        for (int b = 0; b < batch; b++)
        {
            long offset = (long)b * length * width;
            GatedResidual.Run(Pool, x.Float32Pointer + offset, y.Float32Pointer + offset, length, width,
                modulation.Float32Pointer + (long)b * Width(modulation) + gateColumn);
        }
    }

    public void RmsNorm(Tensor x, Tensor y, Tensor weight, float eps, int column = 0, int width = -1)
    {
        int rows = Rows(x, nameof(x));
        CheckSameShape(x, y, nameof(y));
        if (width < 0) width = Width(x) - column;
        CheckColumns(x, column, width, nameof(column));
        int group = checked((int)weight.Length);
        if (weight.DType != DType.Float32 || group == 0 || width % group != 0)
            throw new ArgumentException($"RMSNorm weight {weight.ShapeText} ({weight.DType}) does not divide width {width}", nameof(weight));
        Kernels.RmsNorm.Run(Pool, x.Float32Pointer + column, y.Float32Pointer + column, rows, Width(x), width, weight.Float32Pointer, group, eps);
    }

    public void Silu(Tensor x, Tensor y)
    {
        int rows = Rows(x, nameof(x));
        CheckSameShape(x, y, nameof(y));
        Kernels.Silu.Run(Pool, x.Float32Pointer, y.Float32Pointer, rows, Width(x));
    }

    public void SwiGlu(Tensor z, int column, int width, Tensor y, int yColumn = 0)
    {
        int rows = Rows(z, nameof(z));
        CheckColumns(z, column, 2 * width, nameof(column));
        CheckRows(y, rows, nameof(y));
        CheckColumns(y, yColumn, width, nameof(yColumn));
        Kernels.SwiGlu.Run(Pool, z.Float32Pointer + column, Width(z), y.Float32Pointer + yColumn, Width(y), rows, width);
    }

    public void CopyColumns(Tensor x, int column, int width, Tensor y, int yColumn = 0)
    {
        int rows = Rows(x, nameof(x));
        CheckRows(y, rows, nameof(y));
        if (x.DType != y.DType) throw new ArgumentException($"copy from {x.DType} to {y.DType}", nameof(y));
        CheckColumns(x, column, width, nameof(column));
        CheckColumns(y, yColumn, width, nameof(yColumn));
        int size = x.DType.SizeInBytes();
        byte* src = (byte*)x.Data + (long)column * size, dst = (byte*)y.Data + (long)yColumn * size;
        long srcStride = (long)Width(x) * size, dstStride = (long)Width(y) * size, bytes = (long)width * size;
        for (int r = 0; r < rows; r++) Buffer.MemoryCopy(src + r * srcStride, dst + r * dstStride, bytes, bytes);
    }

    public void Copy(Tensor source, Tensor destination)
    {
        if (source.DType != destination.DType || source.Length != destination.Length)
            throw new ArgumentException($"cannot copy {source.DType} {source.ShapeText} into {destination.DType} {destination.ShapeText}", nameof(destination));
        Buffer.MemoryCopy((void*)source.Data, (void*)destination.Data, destination.ByteLength, source.ByteLength);
    }

    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        if (indices.DType != DType.Int64) throw new ArgumentException($"row indices must be Int64, found {indices.DType}", nameof(indices));
        int width = Width(source);
        if (destination.DType != source.DType || Width(destination) != width || destination.Length != indices.Length * width)
            throw new ArgumentException($"gathering {indices.Length} rows of {source.DType} {source.ShapeText} into {destination.DType} {destination.ShapeText}", nameof(destination));
        long rows = width == 0 ? 0 : source.Length / width, rowBytes = (long)width * source.DType.SizeInBytes();
        byte* src = (byte*)source.Data, dst = (byte*)destination.Data;
        var index = indices.AsSpan<long>();
        for (int r = 0; r < index.Length; r++)
        {
            if ((ulong)index[r] >= (ulong)rows) throw new ArgumentException($"row index {index[r]} outside [0, {rows})", nameof(indices));
            Buffer.MemoryCopy(src + index[r] * rowBytes, dst + r * rowBytes, rowBytes, rowBytes);
        }
    }

    public void RopeTable(Tensor ids, IReadOnlyList<int> axesDims, double theta, Tensor cos, Tensor sin)
    {
        if (ids.DType != DType.Int64) throw new ArgumentException($"RoPE ids must be Int64, found {ids.DType}", nameof(ids));
        int rows = Rows(ids, nameof(ids));
        if (Width(ids) != axesDims.Count) throw new ArgumentException($"ids {ids.ShapeText} do not have {axesDims.Count} axes", nameof(ids));
        // Copied by index into a stack span: this runs every forward pass, which allocates nothing.
        Span<int> axes = stackalloc int[axesDims.Count];
        int pairs = 0;
        for (int a = 0; a < axes.Length; a++) pairs += (axes[a] = axesDims[a]) / 2;
        CheckRows(cos, rows, nameof(cos));
        if (Width(cos) != pairs) throw new ArgumentException($"cos {cos.ShapeText} must have {pairs} columns", nameof(cos));
        CheckSameShape(cos, sin, nameof(sin));
        Kernels.RopeTable.Build((long*)ids.Data, rows, axes, theta, cos.Float32Pointer, sin.Float32Pointer);
    }

    public void InterleavedRope(Tensor x, int column, int heads, Tensor cos, Tensor sin)
    {
        int rows = Rows(x, nameof(x));
        int tableRows = Rows(cos, nameof(cos)), headDim = 2 * Width(cos);
        CheckSameShape(cos, sin, nameof(sin));
        CheckColumns(x, column, heads * headDim, nameof(column));
        if (tableRows == 0 || rows % tableRows != 0)
            throw new ArgumentException($"x {x.ShapeText} rows are not a whole number of RoPE tables of {tableRows} rows", nameof(x));
        Kernels.InterleavedRope.Run(Pool, x.Float32Pointer + column, Width(x), rows, heads, headDim, cos.Float32Pointer, sin.Float32Pointer, tableRows);
    }

    public void TimestepEmbedding(Tensor timesteps, float multiplier, Tensor embedding)
    {
        int batch = checked((int)timesteps.Length);
        CheckRows(embedding, batch, nameof(embedding));
        if (Width(embedding) % 2 != 0) throw new ArgumentException($"embedding {embedding.ShapeText} width must be even", nameof(embedding));
        TimestepSinusoid.Run(timesteps.Float32Pointer, batch, multiplier, embedding.Float32Pointer, Width(embedding));
    }

    public void Attention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn,
        int heads, int headDim, float scale)
    {
        int batch = q.Rank >= 3 ? q.Shape[0] : 1;
        int width = heads * headDim;
        var qo = Operand(q, qColumn, width, batch, nameof(q));
        var ko = Operand(k, kColumn, width, batch, nameof(k));
        var vo = Operand(v, vColumn, width, batch, nameof(v));
        var oo = Operand(output, outputColumn, width, batch, nameof(output));
        if (ko.Rows != vo.Rows) throw new ArgumentException($"k {k.ShapeText} and v {v.ShapeText} have different lengths", nameof(v));
        if (qo.Rows != oo.Rows) throw new ArgumentException($"q {q.ShapeText} and output {output.ShapeText} have different lengths", nameof(output));
        FlashAttention.Run(Pool, qo, ko, vo, oo, batch, heads, headDim, scale, _bf16);
    }

    private static AttentionOperand Operand(Tensor t, int column, int width, int batch, string name)
    {
        int rows = Rows(t, name);
        if ((t.Rank >= 3 ? t.Shape[0] : 1) != batch || rows % batch != 0)
            throw new ArgumentException($"{name} {t.ShapeText} does not have batch {batch}", name);
        CheckColumns(t, column, width, name);
        return new AttentionOperand(t.Float32Pointer + column, rows / batch, Width(t));
    }

    /// <summary>Batch, length and width of x [B, L, D] (or [L, D] with B = 1) against a modulation [B, k·D].</summary>
    private static (int Batch, int Length, int Width) Batched(Tensor x, Tensor modulation, string name)
    {
        int rows = Rows(x, name);
        int batch = Rows(modulation, nameof(modulation));
        if ((x.Rank >= 3 ? x.Shape[0] : 1) != batch || rows % batch != 0)
            throw new ArgumentException($"{name} {x.ShapeText} does not match the modulation's batch {modulation.ShapeText}", name);
        return (batch, rows / batch, Width(x));
    }

    private static int Width(Tensor t) => t.Rank == 0 ? 1 : t.Shape[^1];

    private static int Rows(Tensor t, string name)
    {
        if (t.DType != DType.Float32 && t.DType != DType.Int64) throw new ArgumentException($"{name} is {t.DType}", name);
        int w = Width(t);
        return w == 0 ? 0 : checked((int)(t.Length / w));
    }

    private static void CheckFloat32(Tensor t, string name)
    {
        if (t.DType != DType.Float32) throw new ArgumentException($"{name} is {t.DType}, not Float32", name);
    }

    private static void CheckRows(Tensor t, int rows, string name)
    {
        if (Rows(t, name) != rows) throw new ArgumentException($"{name} {t.ShapeText} does not have {rows} rows", name);
    }

    private static void CheckColumns(Tensor t, int column, int width, string name)
    {
        if (column < 0 || width < 0 || column + width > Width(t))
            throw new ArgumentException($"columns [{column}, {column + width}) outside {t.ShapeText}", name);
    }

    private static void CheckSameShape(Tensor a, Tensor b, string name)
    {
        if (a.DType != b.DType || !a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ArgumentException($"{name} {b.ShapeText} must match {a.ShapeText}", name);
    }
}
