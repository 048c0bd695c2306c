using Flux2.Pipelines.Config;
using Flux2.Testing;

namespace Flux2.Pipelines.Tests;

/// <summary>Pipelines composed as the front ends compose them, on a named test backend.</summary>
internal static class TestPipeline
{
    public static Flux2Pipeline Load(string folder, string backend = TestBackends.Cpu, PipelineOptions? options = null) =>
        Flux2Pipeline.Load(new PipelineConfig { ModelPath = folder }, TestBackends.Factory(backend), options);

    public static Flux2Pipeline Assemble(PipelineComponents components, string backend = TestBackends.Cpu) =>
        Flux2Pipeline.Load(new PipelineConfig { ModelPath = components.Transformer, Components = components }, TestBackends.Factory(backend));
}
