using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Numerics;
using Flux2.Cpu.Conv;
using Flux2.Cpu.Tests.Gemm;
using Flux2.Cpu.Threading;
using Flux2.Tests;

namespace Flux2.Cpu.Tests.Conv;

public sealed unsafe class Conv2dKernelTests : IDisposable
{
    private readonly ComputePool _pool = new(3);
    private readonly CpuBackend _backend;

    public Conv2dKernelTests()
    {
        _backend = new CpuBackend(_pool);
    }

    public void Dispose() => _pool.Dispose();

    public static TheoryData<int, int, int, int, int, int, int> Shapes() => new()
    {
        // cin, cout, h, w, kernel, stride, padding kind (0: none, 1: all sides 1, 2: asymmetric (0,1,0,1))
        { 1, 1, 1, 1, 1, 1, 0 },
        { 3, 7, 7, 15, 3, 1, 1 },
        { 7, 16, 16, 17, 3, 1, 1 },
        { 17, 15, 17, 7, 3, 1, 1 },
        { 16, 17, 16, 16, 3, 2, 2 },
        { 15, 63, 17, 17, 3, 2, 2 },
        { 65, 64, 7, 1, 3, 1, 1 },
        { 64, 65, 15, 16, 1, 1, 0 },
        { 7, 1, 63, 65, 3, 1, 1 },
        { 1, 7, 1, 7, 3, 2, 1 },
        // Patch length 6600·9 makes chunks of 141 pixels: 289 pixels span three chunks, the last of 7.
        { 6600, 3, 17, 17, 3, 1, 1 },
        // Enough pixels for the GEMM to give several tasks a column range each, starting inside an output row: 3600 and
        // (stride 2) 1225 pixels, whose patches each task gathers from the image.
        { 5, 24, 40, 90, 3, 1, 1 },
        { 9, 20, 70, 70, 3, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Matches_the_direct_convolution(int cin, int cout, int h, int w, int kernel, int stride, int padKind)
    {
        var padding = Padding(padKind);
        foreach (var format in new[] { WeightFormat.Float32, WeightFormat.BFloat16, WeightFormat.Float16 })
        foreach (bool accumulate in new[] { false, true })
            Compare(_backend, cin, cout, h, w, kernel, stride, padding, format, accumulate, batch: 2);
    }

    /// <summary>bf16 products against the direct convolution of the inputs rounded to bf16 (the weights are stored bf16): only
    /// the order of the fp32 sums differs.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bf16_products_match_the_direct_convolution_of_rounded_inputs(int cin, int cout, int h, int w, int kernel, int stride, int padKind)
    {
        Bf16Kernel.Required();
        using var bf16 = new CpuBackend(_pool, precision: ComputePrecision.BFloat16);
        var padding = Padding(padKind);
        foreach (bool accumulate in new[] { false, true })
            Compare(bf16, cin, cout, h, w, kernel, stride, padding, WeightFormat.BFloat16, accumulate, batch: 2);
    }

    /// <summary>3×3 convolutions with stride 1, padding 1 and an even number of input channels, which bf16 products compute
    /// without patches (<see cref="DirectConvolution3x3"/>; fp32 products do so for every 3×3 stride-1 shape of
    /// <see cref="Shapes"/>): output channels past a 12-channel strip, rows past a 32-pixel block, rows narrower than a
    /// block, and (4000 channels) input rows packed in two bands.</summary>
    public static TheoryData<int, int, int, int> DirectShapes() => new()
    {
        // cin, cout, h, w
        { 2, 1, 1, 1 },
        { 8, 12, 5, 33 },
        { 16, 40, 9, 64 },
        { 64, 32, 20, 47 },
        { 4000, 13, 45, 8 },
    };

    [Theory]
    [MemberData(nameof(DirectShapes))]
    public void Bf16_products_without_patches_match_the_direct_convolution_of_rounded_inputs(int cin, int cout, int h, int w)
    {
        Bf16Kernel.Required();
        using var bf16 = new CpuBackend(_pool, precision: ComputePrecision.BFloat16);
        Assert.True(DirectConvolution3x3.Applies(new Flux2.Cpu.Gemm.Bf16Panels(Flux2.Cpu.Gemm.Jit.Bf16MicroKernel.Available!), new Conv2dGeometry(cin, h, w, cout, 3, 1, Conv2dPadding.All(1))));
        foreach (bool accumulate in new[] { false, true })
            Compare(bf16, cin, cout, h, w, 3, 1, Conv2dPadding.All(1), WeightFormat.BFloat16, accumulate, batch: 2);
    }

    /// <summary>The shapes' padding kinds: none, one on every side, or one on the bottom and right only.</summary>
    private static Conv2dPadding Padding(int padKind) =>
        padKind switch { 0 => Conv2dPadding.All(0), 1 => Conv2dPadding.All(1), _ => new Conv2dPadding(0, 1, 0, 1) };

    private static void Compare(CpuBackend backend, int cin, int cout, int h, int w, int kernel, int stride, Conv2dPadding padding,
        WeightFormat format, bool accumulate, int batch)
    {
        var rng = new Random(cin * 1000 + cout * 10 + h + w);
        var g = new Conv2dGeometry(cin, h, w, cout, kernel, stride, padding);
        var weight = ConvTestData.Weight(rng, cout, g.PatchLength, format);
        using var x = ConvTestData.Random(rng, 1, 0, batch, cin, h, w);
        using var bias = ConvTestData.Random(rng, 0.1f, 0, cout);
        using var actual = ConvTestData.Random(rng, 1, 0, batch, cout, g.OutHeight, g.OutWidth);
        using var expected = Tensor.Zeros(actual.Shape);
        actual.AsSpan<float>().CopyTo(expected.AsSpan<float>());

        backend.Conv2d(x, weight, kernel, bias, stride, padding, actual, accumulate);
        if (backend.Precision == ComputePrecision.BFloat16)
        {
            var values = x.AsSpan<float>();
            for (int i = 0; i < values.Length; i++) values[i] = BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(values[i]));
        }
        for (int b = 0; b < batch; b++)
            Conv2dReference.Run(x.Float32Pointer + (long)b * cin * h * w, g, weight, bias.Float32Pointer,
                expected.Float32Pointer + (long)b * cout * g.OutPlane, accumulate);

        float diff = FloatComparison.MaxAbsDiff(expected.AsSpan<float>(), actual.AsSpan<float>());
        Assert.True(diff <= 1e-4f, $"{format} {backend.Precision} accumulate={accumulate}: max |kernel - reference| = {diff}");
    }

    [Fact]
    public void Asymmetric_padding_pads_only_the_bottom_and_right()
    {
        // x = 1..16 as a 4x4 image, a 3x3 all-ones kernel, stride 2. With (0, 1, 0, 1) output (0, 0) sums rows
        // and columns 0..2; with symmetric padding 1 it would sum rows and columns 0..1 (= 14).
        using var x = Tensor.FromArray(Enumerable.Range(1, 16).Select(v => (float)v).ToArray(), 1, 1, 4, 4);
        var data = GC.AllocateArray<float>(9, pinned: true);
        Array.Fill(data, 1f);
        var weight = new LinearWeight("ones", 1, 9, WeightFormat.Float32,
            System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(data, 0), data);
        using var bias = Tensor.FromArray([0.5f], 1);
        using var y = Tensor.Zeros(1, 1, 2, 2);
        _backend.Conv2d(x, weight, 3, bias, 2, new Conv2dPadding(0, 1, 0, 1), y);
        Assert.Equal([54.5f, 45.5f, 72.5f, 54.5f], y.ToArray<float>());
        _backend.Conv2d(x, weight, 3, bias, 2, Conv2dPadding.All(1), y);
        Assert.Equal(14.5f, y.AsSpan<float>()[0]);
    }

    [Fact]
    public void Rejects_an_output_of_the_wrong_size()
    {
        var rng = new Random(5);
        var weight = ConvTestData.Weight(rng, 4, 2 * 9, WeightFormat.Float32);
        using var x = Tensor.Zeros(1, 2, 8, 8);
        using var bias = Tensor.Zeros(4);
        using var y = Tensor.Zeros(1, 4, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => _backend.Conv2d(x, weight, 3, bias, 2, new Conv2dPadding(0, 1, 0, 1), y));
        Assert.Contains("conv.Float32", e.Message);
        Assert.Throws<ArgumentException>(() => _backend.Conv2d(x, weight, 1, bias, 1, Conv2dPadding.All(0), y));
    }

    [Fact]
    public void Rejects_an_output_that_overlaps_the_input()
    {
        // The bias is written into y while x is still being read, so y may share x's storage only where they do not overlap.
        var rng = new Random(6);
        var weight = ConvTestData.Weight(rng, 4, 4, WeightFormat.Float32);
        using var bias = Tensor.Zeros(4);
        using var both = ConvTestData.Random(rng, 1, 0, 2, 4, 5, 5);
        using var first = both.Slice0(0, 1);
        using var second = both.Slice0(1, 1);
        var e = Assert.Throws<ArgumentException>(() => _backend.Conv2d(first, weight, 1, bias, 1, Conv2dPadding.All(0), first));
        Assert.Contains("overlaps", e.Message);
        using var shifted = Tensor.View(both.Storage, 4 * 24, DType.Float32, 1, 4, 5, 5);
        Assert.Throws<ArgumentException>(() => _backend.Conv2d(first, weight, 1, bias, 1, Conv2dPadding.All(0), shifted));
        _backend.Conv2d(first, weight, 1, bias, 1, Conv2dPadding.All(0), second);
    }

    [Fact]
    public void Chunks_never_exceed_the_budget()
    {
        // The decoder's widest 3x3 conv at 1024x1024: 512 channels in, 512 out.
        int chunk = Conv2dKernel.ChunkPixels(512 * 9, 1024 * 1024);
        Assert.True((long)chunk * 512 * 9 <= Conv2dKernel.ChunkBudget);
        Assert.True(chunk >= 512, $"chunk of {chunk} pixels is too small to amortise the weight packing");
        Assert.Equal(1, Conv2dKernel.ChunkPixels(1 << 23, 100));
        Assert.Equal(100, Conv2dKernel.ChunkPixels(27, 100));
    }
}
