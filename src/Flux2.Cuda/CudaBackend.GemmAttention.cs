using Flux2.Core;
using Flux2.Cuda.Device;
using Flux2.Cuda.Gemm;
using Flux2.Cuda.Kernels;
using Flux2.Cuda.Native;
using static Flux2.Cuda.CudaOperands;

namespace Flux2.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Keys from which unmasked attention that the tensor-core kernel does not take (fp32 activations) runs through
    /// cuBLASLt rather than the SIMT flash kernel: the transformer at 512² (1536 tokens) and beyond, where cuBLAS's products
    /// outrun the SIMT kernel for the cost of writing and reading the scores once. Settable so tests can send small inputs
    /// either way.</summary>
    internal int GemmAttentionMinKeys { get; set; } = 1024;

    /// <summary>
    /// Attention through cuBLASLt, for head dims beyond the flash kernel's (the VAE's one head of 512) and long sequences
    /// (<see cref="GemmAttentionMinKeys"/>): per (batch, head) and chunk of query rows, the scores S = Q·Kᵀ through cuBLASLt
    /// into fp32, a row softmax into P, and O = P·V through cuBLASLt with V as the depth-major weight, written into the
    /// output's columns; K and V are read in place through their row strides. bf16 operands multiply on tensor cores with P
    /// rounded to bf16 (as the CPU's bf16 attention products round the probabilities); fp32 ones exactly. A chunk's scores
    /// stay within <see cref="ChunkElements"/>.
    /// </summary>
    private void GemmAttention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn,
        int batch, int heads, int headDim, float scale)
    {
        int lq = Rows(q) / batch, lk = Rows(k) / batch, ldq = Width(q), ldk = Width(k), ldv = Width(v), ldo = Width(output);
        if (lk == 0) throw new ArgumentException($"attention over no keys ({k.ShapeText})", nameof(k));
        var type = q.DType;
        int size = type.SizeInBytes(), gemmType = DataType(type);
        ulong qp = Pointer(q, qColumn, nameof(q)), kp = Pointer(k, kColumn, nameof(k)), vp = Pointer(v, vColumn, nameof(v));
        ulong op = Pointer(output, outputColumn, nameof(output));
        int chunk = (int)Math.Clamp(ChunkElements / lk, 1, lq);
        ulong scores = _scratchX.Get(4L * chunk * lk), probabilities = _scratchY.Get((long)size * chunk * lk);
        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        {
            ulong column = (ulong)((long)h * headDim * size);
            ulong qh = qp + (ulong)((long)b * lq * ldq * size) + column, oh = op + (ulong)((long)b * lq * ldo * size) + column;
            ulong kh = kp + (ulong)((long)b * lk * ldk * size) + column, vh = vp + (ulong)((long)b * lk * ldv * size) + column;
            for (int first = 0; first < lq; first += chunk)
            {
                int rows = Math.Min(chunk, lq - first);
                Multiply(new CublasLtGemm.Operands(qh + (ulong)((long)first * ldq * size), gemmType, ldq, kh, gemmType, scores,
                    CublasLt.DataFloat32, lk, Ldw: ldk), rows, lk, headDim, accumulate: false);
                var a = new KernelArguments();
                a.Add(scores);
                a.Add(probabilities);
                a.Add(lk);
                a.Add(scale);
                Launch(KernelFamily.ForActivation("softmax_rows", type), (uint)rows, 1, 1, Threads, ref a);
                Multiply(new CublasLtGemm.Operands(probabilities, gemmType, lk, vh, gemmType,
                    oh + (ulong)((long)first * ldo * size), gemmType, ldo, Ldw: ldv, WDepthMajor: true), rows, headDim, lk, accumulate: false);
            }
        }
    }
}
