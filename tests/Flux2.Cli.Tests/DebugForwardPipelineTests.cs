using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 debug forward pipeline</c> on the golden pipe_t2i / pipe_edit inputs, compared with the diffusers
/// outputs at the golden README §4 tolerances (1e-4 per step and final latents, 2e-4 decoded, 1 LSB image).</summary>
public sealed class DebugForwardPipelineTests : IClassFixture<TinyDevModel>
{
    private readonly TinyDevModel _model;

    public DebugForwardPipelineTests(TinyDevModel model) => _model = model;

    public static IEnumerable<object[]> Cases =>
        from c in new[] { ("pipe_t2i", new[] { "--width", "128", "--height", "96" }),
            ("pipe_edit", new[] { "--width", "130", "--height", "100" }) } // floored to 128x96 like diffusers
        from backend in TestBackends.Names
        select new object[] { c.Item1, backend, c.Item2 };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheGoldenPipeline(string goldenCase, string backend, string[] size)
    {
        var output = _model.Dir.File($"{goldenCase}.{backend}.out.safetensors");
        var result = CliTestHost.RunOn(backend, ["debug", "forward", "pipeline", "--model", _model.Folder,
            "--inputs", Fixtures.Golden(goldenCase + ".io.safetensors"), "--output", output, .. size, "--steps", "4", "--guidance", "4"]);
        Assert.True(result.ExitCode == 0, result.Error);

        using var expected = SafeTensorsFile.Open(Fixtures.Golden(goldenCase + ".io.safetensors"));
        using var actual = SafeTensorsFile.Open(output);
        for (int i = 0; i < 4; i++)
        {
            AssertClose(expected, actual, $"trace.step{i}.noise_pred", 1e-4);
            AssertClose(expected, actual, $"trace.step{i}.latents_after", 1e-4);
        }
        AssertClose(expected, actual, "outputs.latents_final", 1e-4);
        AssertClose(expected, actual, "outputs.decoded", 2e-4);
        AssertClose(expected, actual, "outputs.image_uint8", 1);
    }

    [Fact]
    public void WithoutASizeTheNoiseGridDecides()
    {
        var output = _model.Dir.File("t2i-nosize.safetensors");
        var result = CliTestHost.Run("debug", "forward", "pipeline", "--model", _model.Folder,
            "--inputs", Fixtures.Golden("pipe_t2i.io.safetensors"), "--output", output, "--steps", "1");
        Assert.True(result.ExitCode == 0, result.Error);
        using var actual = SafeTensorsFile.Open(output);
        Assert.Equal([1L, 96, 128, 3], actual.Get("outputs.image_uint8").Shape);
    }

    /// <summary>Float outputs also get rtol 1e-4; the uint8 image (atol 1) only the absolute bound.</summary>
    private static void AssertClose(SafeTensorsFile expected, SafeTensorsFile actual, string name, double atol) =>
        FloatComparison.AssertClose(expected, actual, name, atol, atol < 1 ? 1e-4 : 0);
}
