using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Kernels.Text;

namespace Flux2.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output)
    {
        CheckTextDType(ids, DType.Int64, nameof(ids));
        CheckTextDType(output, DType.Float32, nameof(output));
        if (output.Length != ids.Length * table.InFeatures)
            throw new ArgumentException($"output {output.ShapeText} does not hold {ids.Length} rows of {table.InFeatures}", nameof(output));
        Kernels.Text.EmbeddingLookup.Run(table, (long*)ids.Data, checked((int)ids.Length), output.Float32Pointer);
    }

    public void RotaryHalf(Tensor x, Tensor cos, Tensor sin)
    {
        CheckTextRank(x, 4, DType.Float32, nameof(x));
        int length = x.Shape[1], headDim = x.Shape[3];
        if (headDim % 2 != 0) throw new ArgumentException($"rotate-half RoPE needs an even head dim, found {headDim}", nameof(x));
        CheckTextShape(cos, [length, headDim / 2], nameof(cos));
        CheckTextShape(sin, [length, headDim / 2], nameof(sin));
        Kernels.Text.RotaryHalf.Run(Pool, x.Float32Pointer, x.Shape[0], length, x.Shape[2], headDim, cos.Float32Pointer, sin.Float32Pointer);
    }

    public void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows)
    {
        CheckTextRank(q, 4, DType.Float32, nameof(q));
        int batch = q.Shape[0], length = q.Shape[1], qHeads = q.Shape[2], headDim = q.Shape[3];
        CheckTextRank(k, 4, DType.Float32, nameof(k));
        int kvHeads = k.Shape[2];
        CheckTextShape(k, [batch, length, kvHeads, headDim], nameof(k));
        CheckTextShape(v, [batch, length, kvHeads, headDim], nameof(v));
        CheckTextShape(output, [batch, length, qHeads, headDim], nameof(output));
        CheckTextDType(keyMask, DType.Int64, nameof(keyMask));
        if (keyMask.Rank != 2 || keyMask.Shape[0] != batch || keyMask.Shape[1] != length)
            throw new ArgumentException($"keyMask must be [{batch}, {length}], found {keyMask.ShapeText}", nameof(keyMask));
        Kernels.Text.CausalMaskedAttention.Run(Pool, q.Float32Pointer, k.Float32Pointer, v.Float32Pointer, (long*)keyMask.Data,
            output.Float32Pointer, batch, length, qHeads, kvHeads, headDim, fullyMaskedRows, _bf16);
    }

    // Shape checks of the text ops (programming errors: the encoder validates user input before calling).
    private static void CheckTextDType(Tensor t, DType dtype, string name)
    {
        if (t.DType != dtype) throw new ArgumentException($"{name} must be {dtype}, found {t.DType}", name);
    }

    private static void CheckTextRank(Tensor t, int rank, DType dtype, string name)
    {
        CheckTextDType(t, dtype, name);
        if (t.Rank != rank) throw new ArgumentException($"{name} must have rank {rank}, found {t.ShapeText}", name);
    }

    private static void CheckTextShape(Tensor t, int[] shape, string name)
    {
        CheckTextDType(t, DType.Float32, name);
        if (!t.Shape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"{name} must be [{string.Join(", ", shape)}], found {t.ShapeText}", name);
    }
}
