using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Core.Backend;
using Flux2.Pipelines.Images;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>The full diffusers Flux2Pipeline call (golden pipe_t2i / pipe_edit: tiny_dev + vae_small, 96x128, 4 steps,
/// guidance 4) through <see cref="Flux2Pipeline.Generate"/>, every step compared, through the CPU backend and the opaque test
/// backend. Tolerances from the golden README §4.</summary>
public sealed class PipelineGoldenTests : IClassFixture<TinyDevModel>
{
    private readonly TinyDevModel _model;

    public PipelineGoldenTests(TinyDevModel model) => _model = model;

    public static IEnumerable<object[]> Cases =>
        from name in new[] { "pipe_t2i", "pipe_edit" } from backend in TestBackends.Names select new object[] { name, backend };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesDiffusersStepByStep(string goldenCase, string backend)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden(goldenCase + ".io.safetensors"));
        using var pipeline = TestPipeline.Load(_model.Folder, backend);
        Assert.Equal(PipelineVariant.Dev, pipeline.Variant);
        var run = GoldenPipelineRun.Generate(pipeline, io);

        Assert.Equal(4, run.Velocities.Count);
        for (int i = 0; i < 4; i++)
        {
            AssertClose(io, $"trace.step{i}.noise_pred", run.Velocities[i], 1e-4, 1e-4);
            AssertClose(io, $"trace.step{i}.latents_after", run.Latents[i], 1e-4, 1e-4);
        }
        var generated = run.Image;
        AssertClose(io, "outputs.latents_final", generated.Latents, 1e-4, 1e-4);
        AssertClose(io, "outputs.decoded", generated.Decoded, 2e-4, 0);
        Assert.Equal((128, 96), (generated.Image.Width, generated.Image.Height));
        var expected = io.Get("outputs.image_uint8").AsSpan<byte>();
        int maxDiff = 0;
        for (int i = 0; i < expected.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - generated.Image.Pixels[i]));
        Assert.True(maxDiff <= 1, $"image_uint8 differs by {maxDiff} LSB");
    }

    internal static void AssertClose(SafeTensorsFile io, string name, float[] actual, double atol, double rtol) =>
        FloatComparison.AssertClose(io.Get(name).ToFloat32Array(), actual, atol, rtol, name);
}
