using Flux2.Core;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>Runs alone: the process-wide allocation counter must not see other tests' allocations.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurementCollection
{
    public const string Name = "allocation measurement";
}

/// <summary>A steady-state forward pass allocates no managed memory on any thread: the caller, the compute pool's workers
/// and its wait primitives included (DESIGN.md, performance rules).</summary>
[Collection(AllocationMeasurementCollection.Name)]
public class Flux2TransformerAllocationTests
{
    [Theory]
    [InlineData("tiny_klein", "bfl")]
    [InlineData("tiny_dev", "diffusers")]
    public void SteadyStateForwardAllocatesNothingOnAnyThread(string name, string naming)
    {
        using var golden = new TransformerGolden(name);
        using var model = TransformerGolden.Load(name, naming);
        using var output = golden.Run(model); // warm-up: activation buffers, per-thread kernel scratch, JIT
        void Forward() => model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, golden.Guidance, golden.ImgIds, golden.TxtIds, output);
        Forward();

        long least = SteadyStateAllocation.OnAnyThread(Forward);
        Assert.True(least == 0, $"a steady-state forward pass of {name} allocated {least} bytes across all threads");
    }
}
