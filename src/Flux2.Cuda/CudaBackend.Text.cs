using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Kernels;
using static Flux2.Cuda.CudaOperands;

namespace Flux2.Cuda;

/// <summary>The text encoders' ops (Qwen3, Mistral). Their activations are the backend's activation type (the CPU's
/// Float32 contract, widened as every CUDA op is); ids, the key mask and the RoPE tables keep their types.</summary>
public sealed partial class CudaBackend
{
    /// <summary>Gathers rows of the resident table (bf16, f16, f32 or FP8 as uploaded, the others as expanded at load). The
    /// ids are the encoder's, checked against the vocabulary on the host before upload.</summary>
    public void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output)
    {
        Type(ids, DType.Int64, nameof(ids));
        Activation(output, nameof(output));
        if (output.Length != ids.Length * table.InFeatures)
            throw new ArgumentException($"output {output.ShapeText} does not hold {ids.Length} rows of {table.InFeatures}", nameof(output));
        string element = table.Format switch
        {
            WeightFormat.Float32 => "f32",
            WeightFormat.BFloat16 => "bf16",
            WeightFormat.Float16 => "f16",
            WeightFormat.Fp8E4M3 => "fp8",
            _ => throw new ArgumentException($"{table.Name}: a resident table is bf16, f16, f32 or FP8, not {table.Format}", nameof(table)),
        };
        var a = new KernelArguments();
        a.Add(WeightPointer(table));
        if (table.Format == WeightFormat.Fp8E4M3) a.Add(Fp8ScalePointer(table, WeightPointer(table)));
        a.Add((long)table.OutFeatures);
        a.Add(table.InFeatures);
        a.Add(Pointer(ids, nameof(ids)));
        a.Add(ids.Length);
        a.Add(Pointer(output, nameof(output)));
        Launch(TextKernels.EmbeddingKernel(element, output.DType == DType.BFloat16 ? "bf16" : "f32"), output.Length, ref a);
    }

    public void RotaryHalf(Tensor x, Tensor cos, Tensor sin)
    {
        var (_, length, heads, headDim) = RotaryHalfOperands(x, cos, sin);
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add((long)x.Shape[0] * length);
        a.Add(length);
        a.Add(heads);
        a.Add(headDim / 2);
        a.Add(Pointer(cos, nameof(cos)));
        a.Add(Pointer(sin, nameof(sin)));
        Launch(KernelFamily.ForActivation("rotary_half", x.DType), x.Length / 2, ref a);
    }

    public void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows)
    {
        var (batch, length, qHeads, kvHeads, headDim) = CausalAttentionOperands(q, k, v, keyMask, output);
        if (batch == 0 || length == 0 || qHeads == 0 || headDim == 0) return;
        LaunchAttention(new AttentionOperands(Pointer(q, nameof(q)), qHeads * headDim, Pointer(k, nameof(k)), kvHeads * headDim,
            Pointer(v, nameof(v)), kvHeads * headDim, Pointer(output, nameof(output)), qHeads * headDim, q.DType),
            batch, qHeads, length, length, headDim, 1f / MathF.Sqrt(headDim), qHeads / kvHeads, Pointer(keyMask, nameof(keyMask)),
            causal: true, uniformWhenMasked: fullyMaskedRows == FullyMaskedRows.Uniform);
    }
}
