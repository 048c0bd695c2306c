namespace Flux2.Cli.Tests;

/// <summary><c>flux2 info --device cuda</c>: a line per fact or missing library, and one error line when the CUDA backend
/// cannot run (the case on a machine without a GPU).</summary>
public sealed class InfoDeviceTests
{
    [Fact]
    public void ReportsTheDriverAndLibrariesOrWhyNot()
    {
        var r = CliTestHost.Run("info", "--device", "cuda");
        Assert.Contains("NVRTC: ", r.Output);
        Assert.Contains("cuBLASLt: ", r.Output);
        Assert.Contains("kernel cache: ", r.Output);
        if (r.ExitCode == 0) return;
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("flux2 info: gpu:0 cannot run the CUDA backend: ", Assert.Single(r.ErrorLines));
        Assert.Contains("not found; searched: already loaded; FLUX2_CUDA_LIBRARY_PATH", r.Error);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("tpu")]
    public void OnlyAGpuIsDescribed(string device)
    {
        var r = CliTestHost.Run("info", "--device", device);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is not cuda or cuda:N", Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void ADeviceTakesNoCheckpoint()
    {
        var r = CliTestHost.Run("info", "--device", "cuda", "some/model");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("takes neither PATH nor --json", Assert.Single(r.ErrorLines));
    }
}
