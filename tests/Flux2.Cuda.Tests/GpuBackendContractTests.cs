using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>The backend contract on a GPU: memory, transfers, ownership checks, refusals by name, cancellation, and the
/// facts of the device (printed for the device check). Skipped without a GPU.</summary>
public sealed class GpuBackendContractTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    [Fact]
    public void TheDeviceAndItsLibrariesAreFound()
    {
        CudaAvailability.RequireGpu();
        var diagnostics = CudaDiagnostics.Describe(0);
        foreach (var line in diagnostics.Lines) TestContext.Current.TestOutputHelper?.WriteLine($"FACT {line}");
        Assert.Null(diagnostics.Problem);
    }

    [Theory]
    [InlineData(ComputePrecision.Float32, DType.Float32)]
    [InlineData(ComputePrecision.BFloat16, DType.BFloat16)]
    public void AllocationsAreZeroAndTransfersRoundTrip(ComputePrecision precision, DType activation)
    {
        var gpu = comparison.Gpu(precision);
        Assert.Equal(activation, gpu.ActivationDType);
        Assert.Equal(DeviceRef.Gpu(0), gpu.Device);
        using var zeros = gpu.Allocate(DType.Float32, 3, 1000);
        Assert.All(gpu.Download<float>(zeros), v => Assert.Equal(0f, v));
        var values = Random(3000, 50);
        using var t = gpu.Upload<float>(values, 3, 1000);
        Assert.Equal(values, gpu.Download<float>(t));
        Assert.Equal(values.AsSpan(1000, 1000).ToArray(), gpu.Download<float>(t.Slice0(1, 1)));
        Assert.Throws<InvalidOperationException>(() => t.Data);
    }

    [Fact]
    public void TensorsAndWeightsOfAnotherBackendAreRefused()
    {
        var gpu = comparison.Gpu(ComputePrecision.Float32);
        using var host = Tensor.Zeros(4, 4);
        using var device = gpu.Allocate(DType.Float32, 4, 4);
        Assert.Contains("lives on cpu:0", Assert.Throws<ArgumentException>(() => gpu.Silu(host, device)).Message);
        using var stored = new HostWeight(WeightFormat.Float32, Random(16, 51), 4, 4);
        Assert.Contains("was not loaded by this backend", Assert.Throws<ArgumentException>(() => gpu.Linear(device, stored.Weight, device)).Message);
    }

    /// <summary>A profile times every kernel by name and every product by its types and shape, counts their calls (past the
    /// 4096 ops whose events it holds before folding their times), and records nothing once stopped.</summary>
    [Fact]
    public void AProfileTimesEachKernelAndProductByName()
    {
        var gpu = comparison.Gpu(ComputePrecision.BFloat16);
        using var stored = new HostWeight(WeightFormat.BFloat16, Random(8 * 16, 52), 8, 16);
        using var weight = gpu.LoadLinear(stored.Weight);
        using var x = gpu.UploadAs(Random(3 * 16, 53), DType.BFloat16, 3, 16);
        using var y = gpu.Allocate(DType.BFloat16, 3, 8);
        gpu.StartProfile();
        const int silus = 4100;
        gpu.Linear(x, weight, y);
        for (int i = 0; i < silus; i++) gpu.Silu(y, y);
        var times = gpu.StopProfile();
        Assert.Equal(["matmul bf16·bf16→bf16 3×8×16", "silu_bf16"], times.Select(t => t.Name).Order());
        Assert.Equal(1, times.Single(t => t.Name.StartsWith("matmul")).Calls);
        Assert.Equal(silus, times.Single(t => t.Name == "silu_bf16").Calls);
        Assert.All(times, t => Assert.True(double.IsFinite(t.Milliseconds) && t.Milliseconds >= 0, $"{t.Name}: {t.Milliseconds} ms"));
        Assert.Throws<InvalidOperationException>(() => gpu.StopProfile());
        gpu.Silu(y, y);
        gpu.StartProfile();
        Assert.Empty(gpu.StopProfile());
    }

    /// <summary>A weight the device cannot hold (1 TiB claimed over a few host bytes: the allocation fails before any copy)
    /// is refused with its name and the device's free memory, and the backend stays usable.</summary>
    [Fact]
    public unsafe void AWeightLargerThanTheDeviceNamesItself()
    {
        var gpu = comparison.Gpu(ComputePrecision.BFloat16);
        var bytes = new byte[64];
        fixed (byte* data = bytes)
        {
            var huge = new LinearWeight("transformer_blocks.0.ff.linear_in.weight", 1 << 20, 1 << 19, WeightFormat.BFloat16, (nint)data);
            var e = Assert.Throws<CudaException>(() => gpu.LoadLinear(huge));
            Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.ErrorName);
            Assert.Contains("loading transformer_blocks.0.ff.linear_in.weight (1048576 MiB)", e.Message);
            Assert.Contains("flux2 info --device cuda", e.Message);
        }
        using var t = gpu.Upload<float>([1f, 2f], 2);
        Assert.Equal([1f, 2f], gpu.Download<float>(t));
    }

    /// <summary>Every op runs on the GPU; what is left unsupported is a masked attention wider than the flash kernel's
    /// heads (the text encoders' are 128), which says so by name.</summary>
    [Fact]
    public void WhatTheGpuDoesNotRunSaysSoByName()
    {
        var gpu = comparison.Gpu(ComputePrecision.Float32);
        using var x = gpu.Allocate(DType.Float32, 1, 4, 1, 160);
        using var mask = gpu.Upload<long>([1, 1, 1, 1], 1, 4);
        var e = Assert.Throws<CudaUnsupportedOpException>(() => gpu.CausalMaskedAttention(x, x, x, mask, x, FullyMaskedRows.Zero));
        Assert.Equal("Attention with head dim 160 (at most 128)", e.Op);
    }

    [Fact]
    public void ACancelledCallerStopsAtItsNextOp()
    {
        var gpu = comparison.Gpu(ComputePrecision.Float32);
        using var x = gpu.Allocate(DType.Float32, 64, 64);
        using var source = new CancellationTokenSource();
        using (gpu.ObserveCancellation(source.Token))
        {
            gpu.Silu(x, x);
            source.Cancel();
            Assert.Throws<OperationCanceledException>(() => gpu.Silu(x, x));
        }
        gpu.Silu(x, x);
        gpu.Synchronize();
    }

    [Fact]
    public void TheCpuBackendRefusesGpuMemory()
    {
        var gpu = comparison.Gpu(ComputePrecision.Float32);
        using var device = gpu.Allocate(DType.Float32, 4, 4);
        using var cpu = new CpuBackend();
        Assert.Throws<InvalidOperationException>(() => cpu.Silu(device, device));
    }
}
