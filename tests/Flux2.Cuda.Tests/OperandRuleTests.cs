using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Gemm;
using Flux2.Cuda.Kernels;

namespace Flux2.Cuda.Tests;

/// <summary>The backend's shape and type rules and its sizing arithmetic, checked on host tensors (no GPU needed).</summary>
public sealed class OperandRuleTests
{
    private static Tensor T(DType dtype, params int[] shape) => Tensor.Zeros(dtype, shape);

    [Fact]
    public void ActivationsAreFloat32OrBFloat16()
    {
        CudaOperands.Activation(T(DType.Float32, 2, 3), "x");
        CudaOperands.Activation(T(DType.BFloat16, 2, 3), "x");
        var e = Assert.Throws<ArgumentException>(() => CudaOperands.Activation(T(DType.Float16, 2, 3), "x"));
        Assert.Contains("x is Float16", e.Message);
        Assert.Equal("x", e.ParamName);
    }

    [Fact]
    public void ModulatedOperandsShareABatchAndAType()
    {
        Assert.Equal((2, 5, 8), CudaOperands.Modulated(T(DType.BFloat16, 2, 5, 8), T(DType.BFloat16, 2, 24), "x"));
        Assert.Equal((1, 5, 8), CudaOperands.Modulated(T(DType.Float32, 5, 8), T(DType.Float32, 1, 16), "x"));
        Assert.Throws<ArgumentException>(() => CudaOperands.Modulated(T(DType.Float32, 2, 5, 8), T(DType.Float32, 3, 24), "x"));
        var e = Assert.Throws<ArgumentException>(() => CudaOperands.Modulated(T(DType.BFloat16, 2, 5, 8), T(DType.Float32, 2, 24), "x"));
        Assert.Equal("modulation", e.ParamName);
    }

    [Fact]
    public void ColumnRangesMustLieInsideTheRow()
    {
        CudaOperands.Columns(T(DType.Float32, 4, 10), 6, 4, "y");
        Assert.Contains("columns [7, 11) outside [4, 10]", Assert.Throws<ArgumentException>(() => CudaOperands.Columns(T(DType.Float32, 4, 10), 7, 4, "y")).Message);
        Assert.Throws<ArgumentException>(() => CudaOperands.Columns(T(DType.Float32, 4, 10), -1, 2, "y"));
    }

    [Fact]
    public void AttentionOperandsAreColumnRangesOfOneBatch()
    {
        Assert.Equal(7, CudaOperands.AttentionRows(T(DType.Float32, 2, 7, 96), 64, 32, 2, "k"));
        Assert.Equal(7, CudaOperands.AttentionRows(T(DType.Float32, 7, 96), 0, 96, 1, "q"));
        Assert.Throws<ArgumentException>(() => CudaOperands.AttentionRows(T(DType.Float32, 3, 7, 96), 0, 32, 2, "v"));
        Assert.Throws<ArgumentException>(() => CudaOperands.AttentionRows(T(DType.Float32, 2, 7, 96), 80, 32, 2, "v"));
    }

    [Fact]
    public void SamplerStateHasOneTypeAndLength()
    {
        CudaOperands.SameTypeAndLength(T(DType.Float32, 4, 8), T(DType.Float32, 32), "v");
        CudaOperands.SameTypeAndLength(T(DType.BFloat16, 4, 8), T(DType.BFloat16, 32), "v");
        Assert.Throws<ArgumentException>(() => CudaOperands.SameTypeAndLength(T(DType.Float32, 4, 8), T(DType.Float32, 31), "v"));
        Assert.Throws<ArgumentException>(() => CudaOperands.SameTypeAndLength(T(DType.Float32, 4, 8), T(DType.BFloat16, 32), "v"));
        Assert.Throws<ArgumentException>(() => CudaOperands.SameTypeAndLength(T(DType.BFloat16, 4, 8), T(DType.Float32, 32), "v"));
    }

    [Fact]
    public void ImagesArePlanarPixelsAndInterleavedBytes()
    {
        Assert.Equal((2, 5, 7), CudaOperands.ImagePair(T(DType.Float32, 2, 3, 5, 7), T(DType.UInt8, 2, 5, 7, 3)));
        Assert.Throws<ArgumentException>(() => CudaOperands.ImagePair(T(DType.Float32, 2, 3, 5, 7), T(DType.UInt8, 2, 7, 5, 3)));
    }

    [Fact]
    public void ConvolutionsFollowTheStrideAndPaddingFormula()
    {
        using var w3 = new HostWeight(WeightFormat.BFloat16, new float[6 * 8 * 9], 6, 8 * 9);
        var bias = T(DType.Float32, 6);
        // The VAE's downsampler: padding only below and to the right, Ho = (9 + 1 − 3)/2 + 1, Wo = (7 + 1 − 3)/2 + 1.
        var g = CudaOperands.Conv2d(T(DType.Float32, 2, 8, 9, 7), w3.Weight, 3, bias, 2, new Conv2dPadding(0, 1, 0, 1), T(DType.BFloat16, 2, 6, 4, 3));
        Assert.Equal((4, 3, 72), (g.OutHeight, g.OutWidth, g.PatchLength));
        CudaOperands.Conv2d(T(DType.BFloat16, 1, 8, 5, 5), w3.Weight, 3, bias, 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));

        void Refused(string expected, Tensor x, int kernel, Tensor b, int stride, Conv2dPadding padding, Tensor y) =>
            Assert.Contains(expected, Assert.Throws<ArgumentException>(() => CudaOperands.Conv2d(x, w3.Weight, kernel, b, stride, padding, y)).Message);
        Refused("x is Float16", T(DType.Float16, 1, 8, 5, 5), 3, bias, 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
        Refused("bias must be Float32", T(DType.Float32, 1, 8, 5, 5), 3, T(DType.BFloat16, 6), 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
        Refused("do not fit a 3x3 conv", T(DType.Float32, 1, 7, 5, 5), 3, bias, 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
        Refused("do not fit a 1x1 conv", T(DType.Float32, 1, 8, 5, 5), 1, bias, 1, Conv2dPadding.All(0), T(DType.Float32, 1, 6, 5, 5));
        Refused("do not fit a 3x3 conv", T(DType.Float32, 1, 8, 5, 5), 3, T(DType.Float32, 5), 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
        Refused("does not match input", T(DType.Float32, 1, 8, 5, 5), 3, bias, 1, Conv2dPadding.All(0), T(DType.Float32, 1, 6, 5, 5));
        Refused("does not match input", T(DType.Float32, 1, 8, 5, 5), 3, bias, 1, Conv2dPadding.All(1), T(DType.Float32, 2, 6, 5, 5));
        // A window larger than the padded input fits nowhere, although (2 − 3)/2 + 1 rounds to one row.
        Refused("does not match input", T(DType.Float32, 1, 8, 2, 2), 3, bias, 2, Conv2dPadding.All(0), T(DType.Float32, 1, 6, 1, 1));
        Refused("rank 4", T(DType.Float32, 8, 5, 5), 3, bias, 1, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
        Refused("invalid kernel", T(DType.Float32, 1, 8, 5, 5), 3, bias, 0, Conv2dPadding.All(1), T(DType.Float32, 1, 6, 5, 5));
    }

    [Theory]
    [InlineData(1152, 128, 1 << 20, 64L << 20, 58240)]   // 64 Mi / 1152 = 58254, down to a multiple of 128
    [InlineData(27, 128, 1 << 20, 64L << 20, 1 << 19)]   // the first conv at 1024²: the sums [128, pixels] bound it
    [InlineData(128, 512, 4096, 64L << 20, 4096)]        // every pixel in one chunk
    [InlineData(4608, 512, 100, 1000, 1)]                // a patch longer than the budget: one pixel at a time
    [InlineData(9, 4, 50, 300, 33)]                      // below 128 fit: no rounding
    public void ConvolutionChunksStayWithinTheBudget(int patch, int outChannels, int pixels, long budget, int expected)
    {
        int chunk = CudaBackend.Conv2dChunkPixels(patch, outChannels, pixels, budget);
        Assert.Equal(expected, chunk);
        Assert.True((long)chunk * patch <= Math.Max(budget, patch) && (long)chunk * patch <= int.MaxValue);
    }

    [Fact]
    public void ImageOpsKeepOneActivationTypeAndTheirShapes()
    {
        var gamma = T(DType.Float32, 6);
        CudaOperands.GroupNorm(T(DType.BFloat16, 2, 6, 3, 5), 3, gamma, gamma, T(DType.BFloat16, 2, 6, 3, 5));
        Assert.Throws<ArgumentException>(() => CudaOperands.GroupNorm(T(DType.BFloat16, 2, 6, 3, 5), 4, gamma, gamma, T(DType.BFloat16, 2, 6, 3, 5)));
        Assert.Throws<ArgumentException>(() => CudaOperands.GroupNorm(T(DType.BFloat16, 2, 6, 3, 5), 3, gamma, gamma, T(DType.Float32, 2, 6, 3, 5)));
        Assert.Throws<ArgumentException>(() => CudaOperands.GroupNorm(T(DType.Float32, 2, 6, 3, 5), 3, T(DType.BFloat16, 6), gamma, T(DType.Float32, 2, 6, 3, 5)));
        Assert.Throws<ArgumentException>(() => CudaOperands.GroupNorm(T(DType.Float32, 2, 6, 15), 3, gamma, gamma, T(DType.Float32, 2, 6, 15)));

        CudaOperands.Upsampled(T(DType.BFloat16, 2, 3, 4, 5), T(DType.BFloat16, 2, 3, 8, 10));
        Assert.Throws<ArgumentException>(() => CudaOperands.Upsampled(T(DType.BFloat16, 2, 3, 4, 5), T(DType.Float32, 2, 3, 8, 10)));
        Assert.Throws<ArgumentException>(() => CudaOperands.Upsampled(T(DType.Float32, 2, 3, 4, 5), T(DType.Float32, 2, 3, 8, 9)));

        Assert.Equal((2, 7, 5), CudaOperands.Transposed(T(DType.Float32, 2, 7, 5), T(DType.Float32, 2, 5, 7)));
        Assert.Throws<ArgumentException>(() => CudaOperands.Transposed(T(DType.Float32, 2, 7, 5), T(DType.Float32, 2, 7, 5)));
        Assert.Throws<ArgumentException>(() => CudaOperands.Transposed(T(DType.Float32, 2, 7, 5), T(DType.BFloat16, 2, 5, 7)));
    }

    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(513, 1024)]
    [InlineData(1L << 20, 1L << 20)]
    [InlineData((1L << 20) + 1, 2L << 20)]
    [InlineData((6L << 20) + 5, 8L << 20)]
    public void PoolSizeClasses(long bytes, long size) => Assert.Equal(size, DeviceMemoryPool.SizeClass(bytes));

    [Theory]
    [InlineData(0x7f0000000000UL, 256)]
    [InlineData(0x7f0000000080UL, 128)]
    [InlineData(0x7f0000000006UL, 2)]
    public void GemmOperandAlignment(ulong address, int alignment) => Assert.Equal(alignment, CublasLtGemm.Alignment(address));

    [Fact]
    public void KernelInstancesAreNamedByActivationType()
    {
        Assert.Equal("silu_f32", KernelFamily.ForActivation("silu", DType.Float32));
        Assert.Equal("silu_bf16", KernelFamily.ForActivation("silu", DType.BFloat16));
        Assert.Throws<ArgumentException>(() => KernelFamily.ForActivation("silu", DType.Float16));
        Assert.Equal("attention_bf16_d128", AttentionKernels.KernelFor("bf16", 128));
        Assert.Equal("attention_f32_d64", AttentionKernels.KernelFor("f32", 40));
        Assert.Equal("attention_f32_d32", AttentionKernels.KernelFor("f32", 8));
    }

    [Fact]
    public void EveryKernelTheBackendLaunchesIsInTheCatalog()
    {
        var names = KernelCatalog.All.SelectMany(f => f.Kernels).ToHashSet();
        Assert.Equal(names.Count, KernelCatalog.All.Sum(f => f.Kernels.Count));
        foreach (var size in CopyKernels.ElementSizes) Assert.Contains($"copy_columns_{size}", names);
        foreach (var d in new[] { 8, 40, 96, 128 }) Assert.Contains(AttentionKernels.KernelFor("bf16", d), names);
        foreach (var x in new[] { DType.Float32, DType.BFloat16 })
        {
            foreach (var col in new[] { DType.Float32, DType.BFloat16 })
                Assert.Contains(KernelFamily.ForActivation(KernelFamily.ForActivation("im2col", x), col), names);
            foreach (var kernel in new[] { "conv_bias", "group_norm_sums", "group_norm_apply", "upsample_nearest_2x", "transpose_last_two", "softmax_rows" })
                Assert.Contains(KernelFamily.ForActivation(kernel, x), names);
        }
    }

    [Fact]
    public void RotateHalfRopeTakesAnEvenHeadDimAndFloat32TablesOfTheLength()
    {
        Assert.Equal((2, 5, 3, 8), CudaOperands.RotaryHalfOperands(T(DType.BFloat16, 2, 5, 3, 8), T(DType.Float32, 5, 4), T(DType.Float32, 5, 4)));
        Assert.Contains("even head dim", Assert.Throws<ArgumentException>(() =>
            CudaOperands.RotaryHalfOperands(T(DType.Float32, 2, 5, 3, 7), T(DType.Float32, 5, 3), T(DType.Float32, 5, 3))).Message);
        Assert.Equal("cos", Assert.Throws<ArgumentException>(() =>
            CudaOperands.RotaryHalfOperands(T(DType.Float32, 2, 5, 3, 8), T(DType.Float32, 4, 4), T(DType.Float32, 5, 4))).ParamName);
        Assert.Equal("sin", Assert.Throws<ArgumentException>(() =>
            CudaOperands.RotaryHalfOperands(T(DType.Float32, 2, 5, 3, 8), T(DType.Float32, 5, 4), T(DType.BFloat16, 5, 4))).ParamName);
    }

    [Fact]
    public void CausalAttentionNeedsKvHeadsDividingTheQueryHeadsAndAnInt64Mask()
    {
        var q = T(DType.BFloat16, 2, 5, 8, 16);
        var kv = T(DType.BFloat16, 2, 5, 2, 16);
        Assert.Equal((2, 5, 8, 2, 16), CudaOperands.CausalAttentionOperands(q, kv, kv, T(DType.Int64, 2, 5), T(DType.BFloat16, 2, 5, 8, 16)));
        var e = Assert.Throws<ArgumentException>(() =>
            CudaOperands.CausalAttentionOperands(q, T(DType.BFloat16, 2, 5, 3, 16), T(DType.BFloat16, 2, 5, 3, 16), T(DType.Int64, 2, 5), T(DType.BFloat16, 2, 5, 8, 16)));
        Assert.Contains("dividing the 8 query heads", e.Message);
        Assert.Equal("v", Assert.Throws<ArgumentException>(() =>
            CudaOperands.CausalAttentionOperands(q, kv, T(DType.Float32, 2, 5, 2, 16), T(DType.Int64, 2, 5), T(DType.BFloat16, 2, 5, 8, 16))).ParamName);
        Assert.Equal("keyMask", Assert.Throws<ArgumentException>(() =>
            CudaOperands.CausalAttentionOperands(q, kv, kv, T(DType.Float32, 2, 5), T(DType.BFloat16, 2, 5, 8, 16))).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() =>
            CudaOperands.CausalAttentionOperands(q, kv, kv, T(DType.Int64, 2, 5), T(DType.BFloat16, 2, 4, 8, 16))).ParamName);
    }
}
