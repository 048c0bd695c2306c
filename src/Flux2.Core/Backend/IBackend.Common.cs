namespace Flux2.Core.Backend;

/// <summary>
/// The ops shared by the models: linear layers, norms, activations, RoPE, attention, timestep embedding, copies.
/// Tensors are read as matrices: rows = Length / last dim, and the last dim is the row stride. Ops that take
/// a <c>column</c> work on a column range of every row, so a fused projection ([q | k | v | ...]) is used in
/// place. Activations are in the backend's <see cref="ActivationDType"/> unless stated; norm weights, RoPE tables and
/// timesteps are Float32.
/// </summary>
public partial interface IBackend
{
    /// <summary>y[:, yColumn .. yColumn + N) = x · Wᵀ (or += with <paramref name="accumulate"/>), W = [N, K] in its stored format.</summary>
    /// <param name="x">[rows, K]</param>
    /// <param name="y">[rows, ≥ yColumn + N]</param>
    void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false);

    /// <summary>y[:, yColumn + o] += (x · (A ⊗ B)ᵀ)[:, outputStart + o] for o &lt; outputCount: outputs of a Linear whose weight is
    /// the Kronecker product of A [a, b] and B [c, d] (LyCORIS LoKr), which is never formed: output i·c + k is
    /// Σ_j A[i, j]·(x_j·B[k]ᵀ), x_j the j-th d-wide block of a row. The products x_j·Bᵀ are one GEMM over x read as
    /// [rows·b, d] into <paramref name="scratch"/>; the blocks are then mixed by A. With <paramref name="outputScales"/>
    /// each output is multiplied by its scale first (a DoRA module's rescaling of its rows).</summary>
    /// <param name="x">[rows, b·d]</param>
    /// <param name="first">A, Float32 [a, b]</param>
    /// <param name="second">B [c, d] (made resident by <see cref="IBackend.LoadLinear"/>)</param>
    /// <param name="scratch">[rows, b·c] in the activation type: t</param>
    /// <param name="y">[rows, ≥ yColumn + outputCount]</param>
    /// <param name="outputScales">null, or Float32 [a·c]: output i·c + k is multiplied by outputScales[i·c + k]</param>
    void KroneckerLinear(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales = null);

    /// <summary>y[:, yColumn + j] = scales[j]·x[:, xColumn + j] (or += with <paramref name="accumulate"/>) for j &lt; N, the
    /// length of <paramref name="scales"/>: a per-output gain on a Linear's columns (a DoRA magnitude over the adapted weight's
    /// row norms). x may be y with xColumn = yColumn (in place).</summary>
    /// <param name="x">[rows, ≥ xColumn + N]</param>
    /// <param name="scales">Float32 [N]</param>
    /// <param name="y">[rows, ≥ yColumn + N], x's element type</param>
    void ScaleColumns(Tensor x, int xColumn, Tensor scales, Tensor y, int yColumn, bool accumulate = false);

    /// <summary>AdaLN: y = LN(x)·(1 + scale) + shift, LayerNorm over D without affine parameters; per batch element b,
    /// shift = modulation[b, shiftColumn ..+D) and scale = modulation[b, scaleColumn ..+D). y may be x.</summary>
    /// <param name="x">[B, L, D] (or [L, D] with B = 1)</param>
    /// <param name="modulation">[B, k·D]</param>
    void ModulatedLayerNorm(Tensor x, Tensor y, Tensor modulation, int shiftColumn, int scaleColumn, float eps);

    /// <summary>Gated residual: x += gate ⊙ y with gate = modulation[b, gateColumn ..+D) per batch element.</summary>
    /// <param name="x">[B, L, D] (or [L, D] with B = 1)</param>
    /// <param name="y">the same shape as x</param>
    void AddGated(Tensor x, Tensor y, Tensor modulation, int gateColumn);

    /// <summary>RMSNorm with weight: y = x · rsqrt(mean(x²) + eps) · w over each group of w.Length consecutive values
    /// in columns [column, column + width) of every row (width = -1: to the end of the row). One group per head
    /// gives the QK norm; w.Length = hidden size gives the usual norm. y has x's shape and may be x.</summary>
    /// <param name="weight">[G], G dividing width</param>
    void RmsNorm(Tensor x, Tensor y, Tensor weight, float eps, int column = 0, int width = -1);

    /// <summary>y = x · sigmoid(x); y has x's shape and may be x.</summary>
    void Silu(Tensor x, Tensor y);

    /// <summary>SwiGLU: y[:, yColumn + i] = SiLU(z[:, column + i]) · z[:, column + width + i] for i &lt; width
    /// (the gate is the first half of the 2·width segment).</summary>
    void SwiGlu(Tensor z, int column, int width, Tensor y, int yColumn = 0);

    /// <summary>y[:, yColumn ..+width) = x[:, column ..+width) for tensors with the same row count and element type.</summary>
    void CopyColumns(Tensor x, int column, int width, Tensor y, int yColumn = 0);

    /// <summary>Copies every element of <paramref name="source"/> to <paramref name="destination"/>: the same element type
    /// and element count (shapes may differ, e.g. a row range into a reshaped view).</summary>
    void Copy(Tensor source, Tensor destination);

    /// <summary>destination[r, :] = source[indices[r], :] with rows of the last dimension's width; indices are Int64 in
    /// [0, source rows).</summary>
    void GatherRows(Tensor source, Tensor indices, Tensor destination);

    /// <summary>The cos/sin tables of the DiT's RoPE (interleaved pairs): pair j of axis a has angle
    /// ids[r, a]·θ^(−2j/axesDims[a]), built in float64 and stored fp32.</summary>
    /// <param name="ids">Int64 [rows, axesDims.Count]</param>
    /// <param name="cos">[rows, sum(axesDims)/2]</param>
    void RopeTable(Tensor ids, IReadOnlyList<int> axesDims, double theta, Tensor cos, Tensor sin);

    /// <summary>Interleaved-pair RoPE in place on <paramref name="heads"/> heads of 2·cos.Shape[1] values starting at
    /// <paramref name="column"/> of every row; row r of x uses table row r mod cos.Shape[0] (batches repeat the table).</summary>
    void InterleavedRope(Tensor x, int column, int heads, Tensor cos, Tensor sin);

    /// <summary>The sinusoidal embedding [cos | sin] of t·multiplier, frequencies exp(−ln(10000)·i/half), computed in fp32.</summary>
    /// <param name="timesteps">[B]</param>
    /// <param name="embedding">[B, channels]</param>
    void TimestepEmbedding(Tensor timesteps, float multiplier, Tensor embedding);

    /// <summary>Unmasked softmax attention O = softmax(scale·Q·Kᵀ)·V for every batch element and head; q, k, v and the
    /// output are column ranges of heads·headDim values ([B, L, C] tensors, or [L, C] with B = 1; Lq and Lk may differ).</summary>
    void Attention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn,
        int heads, int headDim, float scale);
}
