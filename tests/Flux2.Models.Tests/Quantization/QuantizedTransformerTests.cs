using System.Text.Json;
using Flux2.Core.Quantization;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Quantization;

/// <summary>The transformer on the quantized golden checkpoints as they are (golden README §7.4): outputs within
/// atol 1e-4 of the run on the dequantised F32 weights (through the CPU and the opaque test backend), and a quantization
/// error within 1.5x the measured one.</summary>
public class QuantizedTransformerTests
{
    private const float Tolerance = 1e-4f;
    private const double ErrorBoundFactor = 1.5;

    public static IEnumerable<object[]> Cases =>
        from c in new[] { ("nvfp4_dev", "nvfp4_dev"), ("nvfp4_dev_nometa", "nvfp4_dev"), ("fp8_klein", "fp8_klein") }
        from backend in TestBackends.Names
        select new object[] { c.Item1, c.Item2, backend };

    [Theory]
    [MemberData(nameof(Cases))]
    public void QuantizedCheckpointMatchesTheDequantisedRun(string checkpoint, string io, string backend)
    {
        using var golden = new TransformerGolden(io, backend);
        using var model = golden.LoadOnBackend(checkpoint + ".bfl.safetensors");
        Assert.Equal(io.StartsWith("nvfp4", StringComparison.Ordinal) ? QuantFormat.Nvfp4 : null, model.Config.QuantConfig?.Format);
        using var output = golden.Run(model);
        float diff = FloatComparison.MaxAbsDiff(golden.Expected("outputs.sample"), golden.Values(output));
        Assert.True(diff <= Tolerance, $"{checkpoint}: max abs error {diff} vs outputs.sample");
    }

    [Theory]
    [InlineData("nvfp4_dev")]
    [InlineData("fp8_klein")]
    public void QuantizationErrorIsWithinTheMeasuredBound(string @case)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden(@case + ".json")));
        var measured = doc.RootElement.GetProperty("measured").GetProperty("quantization_error_vs_bf16_original");
        using var golden = new TransformerGolden(@case);
        using var model = Flux2Transformer.Load(Fixtures.Golden(@case + ".bfl.safetensors"), TransformerGolden.Cpu);
        using var output = golden.Run(model);
        var original = golden.Expected("outputs.sample_bf16_original");
        var actual = output.AsSpan<float>();
        double max = 0, sumSquares = 0;
        for (int i = 0; i < original.Length; i++)
        {
            double d = actual[i] - original[i];
            max = Math.Max(max, Math.Abs(d));
            sumSquares += d * d;
        }
        double rms = Math.Sqrt(sumSquares / original.Length);
        Assert.True(max <= ErrorBoundFactor * measured.GetProperty("max_abs").GetDouble(), $"{@case}: max quantization error {max}");
        Assert.True(rms <= ErrorBoundFactor * measured.GetProperty("rms").GetDouble(), $"{@case}: RMS quantization error {rms}");
        // A quantized run that silently fell back to unscaled or wrong weights would be far off; an exact match would mean no quantization.
        Assert.True(max > 0.1 * measured.GetProperty("max_abs").GetDouble());
    }
}
