using Flux2.Core;
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
    public void SamplerStateIsFloat32OfOneLength()
    {
        CudaOperands.SameLengthFloat32(T(DType.Float32, 4, 8), T(DType.Float32, 32), "v");
        Assert.Throws<ArgumentException>(() => CudaOperands.SameLengthFloat32(T(DType.Float32, 4, 8), T(DType.Float32, 31), "v"));
        Assert.Throws<ArgumentException>(() => CudaOperands.SameLengthFloat32(T(DType.Float32, 4, 8), T(DType.BFloat16, 32), "v"));
    }

    [Fact]
    public void ImagesArePlanarPixelsAndInterleavedBytes()
    {
        Assert.Equal((2, 5, 7), CudaOperands.ImagePair(T(DType.Float32, 2, 3, 5, 7), T(DType.UInt8, 2, 5, 7, 3)));
        Assert.Throws<ArgumentException>(() => CudaOperands.ImagePair(T(DType.Float32, 2, 3, 5, 7), T(DType.UInt8, 2, 7, 5, 3)));
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
