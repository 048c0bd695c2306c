using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Cuda.Gemm;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// What running an FP8 checkpoint as FP8 GEMMs (bf16 products on sm_89+) does to its output, measured without a GPU: the
/// fp8_klein golden on the CPU backend (fp32) with the input of every Linear the GPU keeps FP8 quantized as the GPU
/// quantizes it (one E4M3 scale per call, amax / 448, the host encoder's rounding), against the golden of the dequantised
/// weights with unquantized activations. The GPU golden test's FP8 bound (GpuTransformerGoldenTests) must sit above this
/// with room for bf16 activations.
/// </summary>
public sealed class Fp8ActivationNumericsTests
{
    /// <summary>The CPU backend with the FP8 GEMM's activation quantization in front of the Linears the GPU keeps FP8.</summary>
    private sealed class Fp8ActivationBackend(IBackend inner) : DelegatingBackend(inner)
    {
        public int QuantizedCalls { get; private set; }

        public override void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false)
        {
            if (!WeightExpansion.KeepsFp8(weight, ComputePrecision.BFloat16, computeCapability: 90))
            {
                Inner.Linear(x, weight, y, yColumn, accumulate);
                return;
            }
            using var quantized = Inner.Upload<float>(GpuComparison.Fp8Activations(Inner.DownloadFloat32(x)), x.Shape);
            Inner.Linear(quantized, weight, y, yColumn, accumulate);
            QuantizedCalls++;
        }
    }

    [Fact]
    public void Fp8ActivationsStayWithinTheGpuGoldenBound()
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden("fp8_klein.io.safetensors"));
        using var backend = new Fp8ActivationBackend(new CpuBackend(precision: ComputePrecision.Float32));
        var actual = GoldenTransformerRun.Output("fp8_klein.bfl.safetensors", io, backend);
        Assert.True(backend.QuantizedCalls > 0, "no Linear ran on FP8 activations");
        double dequantised = FloatComparison.RelativeL2(io.Get("outputs.sample").ToFloat32Array(), actual);
        double original = FloatComparison.RelativeL2(io.Get("outputs.sample_bf16_original").ToFloat32Array(), actual);
        TestContext.Current.TestOutputHelper?.WriteLine($"FP8 activations ({backend.QuantizedCalls} Linears): relative L2 {dequantised:E3} " +
            $"against the dequantised golden, {original:E3} against the unquantized bf16 model");
        // Measured: 1.550e-2 against the dequantised golden (2.220e-2 against the unquantized model), over 28 Linears, on the
        // fp32 CPU backend; the range leaves room for another machine's order of fp32 sums only. A quantization that did
        // nothing would give ~1e-6; a wrong scale or rounding, errors of order 1.
        Assert.InRange(dequantised, 1.45e-2, 1.65e-2);
    }
}
