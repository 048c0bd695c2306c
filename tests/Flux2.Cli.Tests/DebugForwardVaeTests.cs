using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugForwardVaeTests
{
    private static readonly string Io = Fixtures.Golden("vae_small.io.safetensors");

    public static IEnumerable<object[]> Cases =>
        from naming in new[] { "diffusers", "bfl" } from backend in TestBackends.Names select new object[] { naming, backend };

    private static SafeTensorsFile RunComponent(TempDirectory dir, string component, string naming, string backend)
    {
        var output = dir.File($"{component}.{naming}.safetensors");
        var result = CliTestHost.RunOn(backend, "debug", "forward", component, "--weights", Fixtures.Golden($"vae_small.{naming}.safetensors"),
            "--inputs", Io, "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("vae (", result.Output);
        return SafeTensorsFile.Open(output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodeWritesTheGoldenLatents(string naming, string backend)
    {
        using var dir = new TempDirectory();
        using var golden = SafeTensorsFile.Open(Io);
        using var written = RunComponent(dir, "vae-encode", naming, backend);
        foreach (var name in new[] { "outputs.encoder_moments", "outputs.latent_mean", "outputs.latent_patchified",
                     "outputs.latent_normalized", "outputs.latent_packed" })
            FloatComparison.AssertClose(golden, written, name, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeWritesTheGoldenImage(string naming, string backend)
    {
        using var dir = new TempDirectory();
        using var golden = SafeTensorsFile.Open(Io);
        using var written = RunComponent(dir, "vae-decode", naming, backend);
        FloatComparison.AssertClose(golden, written, "outputs.decoded", 2e-4);
        FloatComparison.AssertClose(golden, written, "outputs.image_float", 1e-4);
        // uint8 may differ by one code where the value sits on a rounding boundary.
        FloatComparison.AssertClose(golden, written, "outputs.image_uint8", 1);
        Assert.Equal(Flux2.Core.DType.UInt8, written.Get("outputs.image_uint8").DType);
    }

    [Fact]
    public void InputsWithoutAnImageAreOneLineErrors()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "vae-encode", "--weights", Fixtures.Golden("vae_small.bfl.safetensors"),
            "--inputs", Fixtures.Golden("tiny_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("inputs.image", result.Error);
    }

    [Fact]
    public void TransformerWeightsAreOneLineErrors()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "vae-decode", "--weights", Fixtures.Golden("tiny_dev.bfl.safetensors"),
            "--inputs", Io, "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("not a FLUX.2 VAE", result.Error);
    }

    [Fact]
    public void UnknownOptionsAndMissingWeightsAreUsageErrors()
    {
        using var dir = new TempDirectory();
        var missing = CliTestHost.Run("debug", "forward", "vae-encode", "--inputs", Io, "--output", dir.File("o.safetensors"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--weights", missing.Error);
        var unknown = CliTestHost.Run("debug", "forward", "vae-decode", "--weights", Fixtures.Golden("vae_small.bfl.safetensors"),
            "--tile", "64", "--inputs", Io, "--output", dir.File("o.safetensors"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--tile", unknown.Error);
    }
}
