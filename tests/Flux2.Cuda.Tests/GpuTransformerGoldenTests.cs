using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// The whole transformer on the GPU against the golden outputs of the reference: every DiT golden in both namings and the
/// FP8 and NVFP4 checkpoints (whose goldens are the runs on their dequantised weights). Exact mode (fp32 activations and
/// products, no TF32): max abs error ≤ 1e-4, the CPU's tolerance. bf16 mode (bf16 activations, tensor-core products):
/// relative L2 error ≤ 5e-2, a first bound from the per-op 1.5e-2 compounded over the tiny models' blocks, to be
/// tightened to what the device measures. The FP8 checkpoint on a GPU with FP8 tensor cores runs FP8 GEMMs on activations
/// quantized to E4M3 (3 mantissa bits): relative L2 error ≤ 7.5e-2 against the dequantised golden, room for bf16 activations
/// above the 1.55e-2 that FP8 activations alone cost when emulated on the CPU (Fp8ActivationNumericsTests); a first bound
/// likewise. Skipped without a GPU.
/// </summary>
public sealed class GpuTransformerGoldenTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    internal const float ExactTolerance = 1e-4f;
    internal const double BFloat16Tolerance = 5e-2;
    private const double Fp8GemmTolerance = 7.5e-2;

    public static TheoryData<string, string, ComputePrecision> Cases()
    {
        var data = new TheoryData<string, string, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        {
            foreach (var name in new[] { "tiny_dev", "tiny_klein", "head128" })
            foreach (var naming in new[] { "bfl", "diffusers" })
                data.Add($"{name}.{naming}.safetensors", name, precision);
            data.Add("fp8_klein.bfl.safetensors", "fp8_klein", precision);
            data.Add("nvfp4_dev.bfl.safetensors", "nvfp4_dev", precision);
            data.Add("nvfp4_dev_nometa.bfl.safetensors", "nvfp4_dev", precision);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputMatchesTheGolden(string weights, string io, ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var file = SafeTensorsFile.Open(Fixtures.Golden(io + ".io.safetensors"));
        var expected = file.Get("outputs.sample").ToFloat32Array();
        var actual = GoldenTransformerRun.Output(weights, file, gpu);
        if (precision == ComputePrecision.BFloat16)
        {
            bool fp8Gemms = io == "fp8_klein" && gpu.ComputeCapability >= 89;
            GpuComparison.AssertClose($"transformer {weights}{(fp8Gemms ? " FP8 GEMMs" : "")}", precision, expected, actual,
                fp8Gemms ? Fp8GemmTolerance : BFloat16Tolerance);
            return;
        }
        GpuComparison.AssertMaxAbs($"transformer {weights}", precision, expected, actual, ExactTolerance);
    }

    /// <summary>A LoRA and a DoRA module on every layer, a LoHa on the single blocks and a LoKr on the double blocks (all named
    /// as BFL modules on the diffusers checkpoint, so fused outputs split over the q, k and v projections): the side paths,
    /// their stacking, the DoRA gains (<c>ScaleColumns</c>) and <c>KroneckerLinear</c> (with a DoRA LoKr's output scales)
    /// on the GPU against the CPU backend running the same files, within the transformer's tolerances.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void AdaptersRunAsOnTheCpu(ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var dir = new TempDirectory();
        var files = AdapterFiles.Write(Fixtures.Golden("tiny_klein.bfl.safetensors"), dir);
        using var io = SafeTensorsFile.Open(Fixtures.Golden("tiny_klein.io.safetensors"));
        var weights = Fixtures.Golden("tiny_klein.diffusers.safetensors");
        var expected = GoldenTransformerRun.OutputOfFile(weights, io, comparison.Cpu, files);
        var plain = GoldenTransformerRun.OutputOfFile(weights, io, comparison.Cpu);
        Assert.True(FloatComparison.MaxAbsDiff(plain, expected) > 0.1f, "the adapters hardly move the output");
        var actual = GoldenTransformerRun.OutputOfFile(weights, io, gpu, files);
        if (precision == ComputePrecision.BFloat16)
            GpuComparison.AssertClose("transformer with LoRA, DoRA, LoHa and LoKr", precision, expected, actual, BFloat16Tolerance);
        else
            GpuComparison.AssertMaxAbs("transformer with LoRA, DoRA, LoHa and LoKr", precision, expected, actual, ExactTolerance);
    }

    /// <summary>Adapters swapped on a model resident on the GPU (none, then a LoRA, a DoRA, a LoHa and a LoKr, then none): each
    /// pass equals a model loaded that way, bit for bit, and removing the adapters gives back the device memory their factors
    /// and gains held.</summary>
    [Fact]
    public void AdaptersSwapOnTheGpuAndReleaseTheirMemory()
    {
        var gpu = comparison.Gpu(ComputePrecision.BFloat16);
        using var dir = new TempDirectory();
        var files = AdapterFiles.Write(Fixtures.Golden("tiny_klein.bfl.safetensors"), dir);
        using var io = SafeTensorsFile.Open(Fixtures.Golden("tiny_klein.io.safetensors"));
        var weights = Fixtures.Golden("tiny_klein.diffusers.safetensors");
        var plain = GoldenTransformerRun.OutputOfFile(weights, io, gpu);
        var adapted = GoldenTransformerRun.OutputOfFile(weights, io, gpu, files);

        using var model = Flux2.Models.Transformer.Flux2Transformer.Load(weights, gpu);
        Assert.Equal(plain, GoldenTransformerRun.Forward(model, io, gpu));
        long before = gpu.Memory.InUse;
        model.UseLoras(Flux2.Models.Lora.LoraSet.Load(files, model.Config, model.Naming, lenient: false));
        Assert.Equal(adapted, GoldenTransformerRun.Forward(model, io, gpu));
        model.UseLoras(null);
        Assert.Equal(plain, GoldenTransformerRun.Forward(model, io, gpu));
        // The pass's activations are sized anew when the side-path scratch goes; what the factors held is free.
        Assert.True(gpu.Memory.InUse <= before, $"in use {gpu.Memory.InUse} B after removing the adapters, {before} B before adding them");
    }

    /// <summary>The tiny klein as ggml quantized it (tests/fixtures/gguf), its blocks expanded once at load, against the CPU
    /// backend running the same file in fp32 (its blocks decoded in the GEMM): the transformer's tolerances.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void GgufBlocksGiveTheCpusOutput(ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var file = SafeTensorsFile.Open(Fixtures.Golden("tiny_klein.io.safetensors"));
        string gguf = Fixtures.File("gguf", "tiny_klein.gguf");
        var expected = GoldenTransformerRun.OutputOfFile(gguf, file, comparison.Cpu);
        var actual = GoldenTransformerRun.OutputOfFile(gguf, file, gpu);
        if (precision == ComputePrecision.BFloat16) GpuComparison.AssertClose("transformer tiny_klein.gguf", precision, expected, actual, BFloat16Tolerance);
        else GpuComparison.AssertMaxAbs("transformer tiny_klein.gguf", precision, expected, actual, ExactTolerance);
    }
}
