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

    [Fact]
    public void BatchedPromptEmbeddingsMatchEachPromptRunAlone()
    {
        // Two prompts (the golden embeddings and a changed copy), one noise each; then each prompt alone with its noise.
        using var golden = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var embeds = golden.Get("inputs.prompt_embeds").ToFloat32Array();
        var other = embeds.Select(v => 0.5f * v - 0.2f).ToArray();
        var noise = golden.Get("inputs.noise").ToFloat32Array();
        var otherNoise = noise.Select(v => -v).ToArray();
        long[] embedsShape = [1, 20, 96], noiseShape = [1, 128, 6, 8];
        string Io(string name, float[][] e, float[][] n)
        {
            var writer = new SafeTensorsWriter();
            writer.AddFloat32("inputs.prompt_embeds", [e.Length, .. embedsShape[1..]], e.SelectMany(x => x).ToArray());
            writer.AddFloat32("inputs.noise", [n.Length, .. noiseShape[1..]], n.SelectMany(x => x).ToArray());
            var path = _model.Dir.File(name);
            writer.Write(path);
            return path;
        }
        SafeTensorsFile Run(string io)
        {
            var output = io + ".out";
            var result = CliTestHost.Run("debug", "forward", "pipeline", "--model", _model.Folder, "--inputs", io, "--output", output, "--steps", "2", "--force");
            Assert.True(result.ExitCode == 0, result.Error);
            return SafeTensorsFile.Open(output);
        }
        using var batch = Run(Io("batch.io", [embeds, other], [noise, otherNoise]));
        using var first = Run(Io("first.io", [embeds], [noise]));
        using var second = Run(Io("second.io", [other], [otherNoise]));
        foreach (var name in new[] { "outputs.latents_final", "outputs.decoded" })
        {
            var all = batch.Get(name).ToFloat32Array();
            var alone = first.Get(name).ToFloat32Array().Concat(second.Get(name).ToFloat32Array()).ToArray();
            FloatComparison.AssertClose(alone, all, 1e-5, 0, name);
        }
        Assert.Equal(first.Get("outputs.image_uint8").ToByteArray().Concat(second.Get("outputs.image_uint8").ToByteArray()),
            batch.Get("outputs.image_uint8").ToByteArray());
    }

    /// <summary>Float outputs also get rtol 1e-4; the uint8 image (atol 1) only the absolute bound.</summary>
    private static void AssertClose(SafeTensorsFile expected, SafeTensorsFile actual, string name, double atol) =>
        FloatComparison.AssertClose(expected, actual, name, atol, atol < 1 ? 1e-4 : 0);
}
