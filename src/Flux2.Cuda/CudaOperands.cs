using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Cuda;

/// <summary>
/// The shape and type rules of the backend's ops, on tensor metadata only (so they are tested without a GPU). They are
/// the CPU backend's rules, with one widening: activations may be Float32 or BFloat16 (the types the kernels exist for),
/// and the operands of one op share one of them. Tensors are read as matrices: rows = Length / last dim.
/// </summary>
internal static class CudaOperands
{
    /// <summary>Elements of the last dimension: the row width and stride.</summary>
    public static int Width(Tensor t) => t.Rank == 0 ? 1 : t.Shape[^1];

    public static int Rows(Tensor t)
    {
        int w = Width(t);
        return w == 0 ? 0 : checked((int)(t.Length / w));
    }

    /// <summary>Requires an activation type (Float32 or BFloat16).</summary>
    public static void Activation(Tensor t, string name)
    {
        if (t.DType is not (DType.Float32 or DType.BFloat16))
            throw new ArgumentException($"{name} is {t.DType}; the CUDA kernels take Float32 or BFloat16 activations", name);
    }

    /// <summary>Requires <paramref name="t"/> to have <paramref name="like"/>'s element type.</summary>
    public static void SameType(Tensor like, Tensor t, string name)
    {
        if (t.DType != like.DType) throw new ArgumentException($"{name} is {t.DType}, the other operands {like.DType}", name);
    }

    public static void Type(Tensor t, DType dtype, string name)
    {
        if (t.DType != dtype) throw new ArgumentException($"{name} must be {dtype}, found {t.DType}", name);
    }

    public static void RowCount(Tensor t, int rows, string name)
    {
        if (Rows(t) != rows) throw new ArgumentException($"{name} {t.ShapeText} does not have {rows} rows", name);
    }

    public static void Columns(Tensor t, int column, int width, string name)
    {
        if (column < 0 || width < 0 || column + width > Width(t))
            throw new ArgumentException($"columns [{column}, {column + width}) outside {t.ShapeText}", name);
    }

    public static void SameShape(Tensor a, Tensor b, string name)
    {
        if (a.DType != b.DType || !a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ArgumentException($"{name} {b.DType} {b.ShapeText} must match {a.DType} {a.ShapeText}", name);
    }

    /// <summary>An operand of <paramref name="like"/>'s type with as many elements (the sampler's state).</summary>
    public static void SameTypeAndLength(Tensor like, Tensor t, string name)
    {
        Type(t, like.DType, name);
        if (t.Length != like.Length) throw new ArgumentException($"{name} {t.ShapeText} must have the {like.Length} elements of {like.ShapeText}", name);
    }

    /// <summary>Batch, length and width of x [B, L, D] (or [L, D] with B = 1) against a modulation [B, k·D] of x's type.</summary>
    public static (int Batch, int Length, int Width) Modulated(Tensor x, Tensor modulation, string name)
    {
        Activation(x, name);
        SameType(x, modulation, nameof(modulation));
        int rows = Rows(x), batch = Rows(modulation);
        if ((x.Rank >= 3 ? x.Shape[0] : 1) != batch || batch == 0 || rows % batch != 0)
            throw new ArgumentException($"{name} {x.ShapeText} does not match the modulation's batch {modulation.ShapeText}", name);
        return (batch, rows / batch, Width(x));
    }

    /// <summary>Rows per batch element of one attention operand: a column range of heads·headDim values of [B, L, C] (or [L, C]).</summary>
    public static int AttentionRows(Tensor t, int column, int width, int batch, string name)
    {
        int rows = Rows(t);
        if ((t.Rank >= 3 ? t.Shape[0] : 1) != batch || rows % batch != 0)
            throw new ArgumentException($"{name} {t.ShapeText} does not have batch {batch}", name);
        Columns(t, column, width, name);
        return rows / batch;
    }

    /// <summary>Batch, height and width of planar pixels [B, 3, H, W] and their interleaved image [B, H, W, 3].</summary>
    public static (int Batch, int Height, int Width) ImagePair(Tensor pixels, Tensor image)
    {
        if (pixels.Rank != 4 || pixels.Shape[1] != 3 || image.Rank != 4 || image.Shape[0] != pixels.Shape[0]
            || image.Shape[1] != pixels.Shape[2] || image.Shape[2] != pixels.Shape[3] || image.Shape[3] != 3)
            throw new ArgumentException($"pixels {pixels.ShapeText} and image {image.ShapeText} must be [B, 3, H, W] and [B, H, W, 3]");
        return (pixels.Shape[0], pixels.Shape[2], pixels.Shape[3]);
    }

    /// <summary>The geometry of a convolution from an activation x [B, Cin, H, W] to an activation y [B, Cout, Ho, Wo] with a
    /// Float32 bias (x and y may differ in type: the VAE's first convolutions read Float32 images and latents).</summary>
    public static Conv2dGeometry Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y)
    {
        Activation(x, nameof(x));
        Activation(y, nameof(y));
        Type(bias, DType.Float32, nameof(bias));
        return Conv2dGeometry.Of(x, weight, kernelSize, bias, stride, padding, y);
    }

    /// <summary>GroupNorm's operands: x and y [B, C, H, W] of one activation type, Float32 gamma and beta [C], and a group
    /// count dividing C.</summary>
    public static void GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, Tensor y)
    {
        ActivationRank(x, 4, nameof(x));
        SameShape(x, y, nameof(y));
        Float32Rank(gamma, 1, nameof(gamma));
        Float32Rank(beta, 1, nameof(beta));
        int channels = x.Shape[1];
        if (groups < 1 || channels % groups != 0 || gamma.Shape[0] != channels || beta.Shape[0] != channels)
            throw new ArgumentException($"group norm: {groups} groups, gamma {gamma.ShapeText}, beta {beta.ShapeText} do not fit {x.ShapeText}", nameof(groups));
    }

    /// <summary>Nearest ×2 upsampling: x [B, C, H, W] and y [B, C, 2H, 2W] of one activation type.</summary>
    public static void Upsampled(Tensor x, Tensor y)
    {
        ActivationRank(x, 4, nameof(x));
        SameType(x, y, nameof(y));
        if (y.Rank != 4 || y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[1] || y.Shape[2] != 2 * x.Shape[2] || y.Shape[3] != 2 * x.Shape[3])
            throw new ArgumentException($"upsample x2: output {y.ShapeText} is not twice {x.ShapeText}", nameof(y));
    }

    /// <summary>Batch, rows and columns of x [B, R, C] transposed into y [B, C, R] of the same activation type.</summary>
    public static (int Batch, int Rows, int Columns) Transposed(Tensor x, Tensor y)
    {
        ActivationRank(x, 3, nameof(x));
        SameType(x, y, nameof(y));
        if (y.Rank != 3 || y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[2] || y.Shape[2] != x.Shape[1])
            throw new ArgumentException($"transpose: output {y.ShapeText} is not {x.ShapeText} with the last two axes swapped", nameof(y));
        return (x.Shape[0], x.Shape[1], x.Shape[2]);
    }

    /// <summary>Requires a rank-<paramref name="rank"/> activation (an image's channels, planes or token rows).</summary>
    public static void ActivationRank(Tensor t, int rank, string name)
    {
        Activation(t, name);
        if (t.Rank != rank) throw new ArgumentException($"{name} must have rank {rank}, found {t.ShapeText}", name);
    }

    /// <summary>Requires a rank-<paramref name="rank"/> Float32 tensor (latents and their statistics).</summary>
    public static void Float32Rank(Tensor t, int rank, string name)
    {
        if (t.DType != DType.Float32 || t.Rank != rank)
            throw new ArgumentException($"{name} must be a rank-{rank} Float32 tensor, found {t.DType} {t.ShapeText}", name);
    }

    /// <summary>Batch, length, heads and head dim of rotate-half RoPE's x [B, L, heads, D] (an activation, D even) and its
    /// Float32 tables [L, D/2].</summary>
    public static (int Batch, int Length, int Heads, int HeadDim) RotaryHalfOperands(Tensor x, Tensor cos, Tensor sin)
    {
        ActivationRank(x, 4, nameof(x));
        int length = x.Shape[1], headDim = x.Shape[3];
        if (headDim % 2 != 0) throw new ArgumentException($"rotate-half RoPE needs an even head dim, found {headDim}", nameof(x));
        TextShape(cos, DType.Float32, [length, headDim / 2], nameof(cos));
        TextShape(sin, DType.Float32, [length, headDim / 2], nameof(sin));
        return (x.Shape[0], length, x.Shape[2], headDim);
    }

    /// <summary>Batch, length, query heads, key/value heads and head dim of the text encoders' attention: q and output
    /// [B, L, Hq, D], k and v [B, L, Hkv, D] of one activation type with Hkv dividing Hq, and an Int64 key mask [B, L].</summary>
    public static (int Batch, int Length, int QHeads, int KvHeads, int HeadDim) CausalAttentionOperands(Tensor q, Tensor k, Tensor v,
        Tensor keyMask, Tensor output)
    {
        ActivationRank(q, 4, nameof(q));
        int batch = q.Shape[0], length = q.Shape[1], qHeads = q.Shape[2], headDim = q.Shape[3];
        int kvHeads = k.Rank == 4 ? k.Shape[2] : -1;
        if (kvHeads <= 0 || qHeads % kvHeads != 0)
            throw new ArgumentException($"k {k.ShapeText} must be [B, L, kv heads, D] with kv heads dividing the {qHeads} query heads", nameof(k));
        TextShape(k, q.DType, [batch, length, kvHeads, headDim], nameof(k));
        TextShape(v, q.DType, [batch, length, kvHeads, headDim], nameof(v));
        TextShape(output, q.DType, [batch, length, qHeads, headDim], nameof(output));
        TextShape(keyMask, DType.Int64, [batch, length], nameof(keyMask));
        return (batch, length, qHeads, kvHeads, headDim);
    }

    private static void TextShape(Tensor t, DType dtype, int[] shape, string name)
    {
        if (t.DType != dtype || !t.Shape.AsSpan().SequenceEqual(shape))
            throw new ArgumentException($"{name} must be {dtype} [{string.Join(", ", shape)}], found {t.DType} {t.ShapeText}", name);
    }
}
