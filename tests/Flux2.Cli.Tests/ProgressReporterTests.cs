using Flux2.Pipelines;

namespace Flux2.Cli.Tests;

/// <summary>The progress line's ETA counts the steps left in this image's batch and in the batches after it.</summary>
public sealed class ProgressReporterTests
{
    private static string Line(int image, int images, int step, int batchSize)
    {
        var error = new StringWriter();
        // 2 s per step so far: the ETA is 2 s per step left.
        new ProgressReporter(error, interactive: false).OnStep(new DenoiseStep(image, images, step, 4, TimeSpan.FromSeconds(2 * step), null!, null!, null!, batchSize));
        return error.ToString().Trim();
    }

    [Theory]
    [InlineData(0, 1, 1, 1, "0:06")] // 3 steps left
    [InlineData(0, 4, 1, 1, "0:30")] // 3 + 3 images × 4
    [InlineData(0, 4, 1, 2, "0:14")] // 3 + one more batch of 4 steps
    [InlineData(1, 4, 1, 2, "0:14")] // the same batch
    [InlineData(2, 4, 4, 2, "0:00")] // the last batch, done
    [InlineData(0, 5, 2, 2, "0:20")] // 2 + two more batches
    public void TheEtaCountsTheBatchesLeft(int image, int images, int step, int batchSize, string eta) =>
        Assert.EndsWith($"ETA {eta}", Line(image, images, step, batchSize));
}
