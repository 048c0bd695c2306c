using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;
using Xunit.Abstractions;

namespace Flux2.Pipelines.Tests;

/// <summary>The pipeline goldens with bf16 products (<see cref="ComputePrecision.BFloat16"/>): how far the latents and the
/// image move from the fp32 reference. Measured on this machine: latents relative L2 1.5e-3 (both cases), uint8 pixels at
/// most 3–4 codes apart with a mean of 0.43; the bounds are about twice that. fp32 stays within 1e-4 (<see cref="PipelineGoldenTests"/>).</summary>
public sealed class Bf16PrecisionTests(TinyDevModel model, ITestOutputHelper output) : IClassFixture<TinyDevModel>
{
    private const double MaxRelativeL2 = 3e-3;
    private const int MaxPixelDelta = 8;
    private const double MaxMeanPixelDelta = 1.0;

    [Theory]
    [InlineData("pipe_t2i")]
    [InlineData("pipe_edit")]
    public void StaysCloseToTheGolden(string goldenCase)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden(goldenCase + ".io.safetensors"));
        using var pipeline = TestPipeline.Load(model.Folder, TestBackends.CpuBf16);
        using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
        var image = Assert.Single(pipeline.Generate(inputs.Request()).Images);
        var latents = io.Get("outputs.latents_final").ToFloat32Array();
        double diff = 0, norm = 0;
        for (int i = 0; i < latents.Length; i++)
        {
            diff += Math.Pow(image.Latents[i] - latents[i], 2);
            norm += Math.Pow(latents[i], 2);
        }
        var pixels = io.Get("outputs.image_uint8").AsSpan<byte>();
        int maxDelta = 0;
        long totalDelta = 0;
        for (int i = 0; i < pixels.Length; i++)
        {
            int delta = Math.Abs(pixels[i] - image.Image.Pixels[i]);
            maxDelta = Math.Max(maxDelta, delta);
            totalDelta += delta;
        }
        double relative = Math.Sqrt(diff / norm), mean = (double)totalDelta / pixels.Length;
        output.WriteLine($"{goldenCase} ({pipeline.Backend.Precision}): latents relative L2 {relative:E2}, uint8 |Δ| max {maxDelta}, mean {mean:F3}");
        Assert.True(relative <= MaxRelativeL2, $"latents relative L2 {relative}");
        Assert.True(maxDelta <= MaxPixelDelta && mean <= MaxMeanPixelDelta, $"uint8 |Δ| max {maxDelta}, mean {mean}");
        // Where the processor has bf16 products the run must differ from fp32 (else this measured nothing).
        if (pipeline.Backend.Precision == ComputePrecision.BFloat16) Assert.True(relative > 1e-5);
    }
}
