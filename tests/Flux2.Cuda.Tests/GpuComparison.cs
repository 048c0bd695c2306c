using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Numerics;
using Flux2.Cpu;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>The CUDA backends of the GPU tests (one per precision, made on first use) and the comparison of each op with
/// the CPU backend: the same scenario runs on both sides and the GPU's result must be within a relative L2 error of the
/// CPU's (fp32: far under 1e-3; bf16 activations: about 1e-2) with no NaN. Every comparison adds a row to the table the
/// device check prints.</summary>
public sealed class GpuComparison : IDisposable
{
    private readonly Dictionary<ComputePrecision, CudaBackend> _backends = [];
    private readonly CpuBackend _cpu = new(precision: ComputePrecision.Float32);

    /// <summary>Relative L2 error allowed with fp32 activations and products.</summary>
    public const double Float32Tolerance = 1e-5;

    /// <summary>Relative L2 error allowed with bf16 activations (8 bits of mantissa, ~4e-3 per rounding).</summary>
    public const double BFloat16Tolerance = 1.5e-2;

    /// <summary>The oracle: the CPU backend in fp32.</summary>
    public IBackend Cpu => _cpu;

    public static double Tolerance(ComputePrecision precision) => precision == ComputePrecision.BFloat16 ? BFloat16Tolerance : Float32Tolerance;

    public CudaBackend Gpu(ComputePrecision precision)
    {
        CudaAvailability.RequireGpu();
        if (!_backends.TryGetValue(precision, out var backend)) _backends[precision] = backend = CudaBackend.Create(0, precision);
        return backend;
    }

    /// <summary>Runs <paramref name="scenario"/> on the CPU and on the GPU of <paramref name="precision"/> and compares what it
    /// returns.</summary>
    public void Compare(string op, ComputePrecision precision, Func<ComparisonSide, float[]> scenario, double? tolerance = null)
    {
        var gpu = Gpu(precision);
        float[] expected, actual;
        using (var cpu = new ComparisonSide(_cpu, DType.Float32, roundInputsToBf16: gpu.ActivationDType == DType.BFloat16)) expected = scenario(cpu);
        using (var side = new ComparisonSide(gpu, gpu.ActivationDType, roundInputsToBf16: false)) actual = scenario(side);
        AssertClose(op, precision, expected, actual, tolerance ?? Tolerance(precision));
    }

    public static void AssertClose(string op, ComputePrecision precision, float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        int nan = expected.Zip(actual).Count(p => float.IsNaN(p.Second) && !float.IsNaN(p.First));
        double relative = FloatComparison.RelativeL2(expected, actual);
        Report(op, precision, expected.Length, relative, nan == 0 && relative <= tolerance);
        Assert.True(nan == 0, $"{op}: {nan} NaN outputs");
        Assert.True(relative <= tolerance, $"{op} ({precision}): relative error {relative:E3} above {tolerance:E1}");
    }

    /// <summary>The exact mode's check against a golden: the largest absolute difference (NaN counts as infinite) within
    /// <paramref name="tolerance"/>.</summary>
    public static void AssertMaxAbs(string op, ComputePrecision precision, float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = MathF.Max(worst, float.IsNaN(actual[i]) ? float.PositiveInfinity : MathF.Abs(actual[i] - expected[i]));
        Report(op, precision, expected.Length, worst, worst <= tolerance, " (max abs)");
        Assert.True(worst <= tolerance, $"{op} ({precision}): max abs error {worst:E3} above {tolerance:E1}");
    }

    /// <summary>A row of the table the device check prints: the op, its precision, the outputs compared and their error.</summary>
    public static void Report(string op, ComputePrecision precision, int outputs, double error, bool ok, string measure = "") =>
        TestContext.Current.TestOutputHelper?.WriteLine($"TABLE {op,-44} {precision,-9} {outputs,9} {error,10:E2} {(ok ? "ok" : "FAIL")}{measure}");

    /// <summary>What the FP8 GEMM path does to an activation before the product: one E4M3 scale for all of
    /// <paramref name="values"/>, amax / 448 (1 when all are zero), each value rounded by the host's encoder.</summary>
    public static float[] Fp8Activations(float[] values)
    {
        float amax = values.Max(MathF.Abs), scale = amax > 0 ? amax / E4M3.MaxValue : 1f;
        return values.Select(v => E4M3.Decode(E4M3.Encode(v / scale)) * scale).ToArray();
    }

    /// <summary>Reproducible values in [-scale, scale].</summary>
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    public void Dispose()
    {
        foreach (var backend in _backends.Values) backend.Dispose();
        _cpu.Dispose();
    }
}
