using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Pipelines;
using Flux2.Pipelines.Caching;

namespace Flux2.Tests;

/// <summary>A pipe_t2i / pipe_edit golden generation with what it produced along the way: each step's velocity and latents
/// (downloaded as fp32), the image, and the notices.</summary>
internal sealed record GoldenPipelineRun(List<float[]> Velocities, List<float[]> Latents, GeneratedImage Image, List<string> Notices)
{
    public static GoldenPipelineRun Generate(Flux2Pipeline pipeline, SafeTensorsFile io, CacheOptions? cache = null,
        CancellationToken cancellation = default)
    {
        using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
        var run = new GoldenPipelineRun([], [], null!, []);
        var result = pipeline.Generate(inputs.Request() with
        {
            Cache = cache,
            OnStep = s =>
            {
                run.Velocities.Add(s.Backend.DownloadFloat32(s.Velocity));
                run.Latents.Add(s.Backend.DownloadFloat32(s.Latents));
            },
            OnNotice = run.Notices.Add,
        }, cancellation);
        return run with { Image = Assert.Single(result.Images) };
    }
}
