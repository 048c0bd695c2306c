using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Lora;

/// <summary>What every adapter kind's transformer tests check: the side path against the adapter merged into the weights, and
/// a steady-state pass that allocates nothing.</summary>
internal static class SidePathChecks
{
    private const float Tolerance = 1e-5f;
    /// <summary>The adapters move the output by much more than the tolerance, so a side path that is skipped or misplaced fails.</summary>
    private const float MinimumEffect = 0.1f;

    /// <summary>Theory data: every <typeparamref name="TFormat"/> (a file format or key spelling) on both checkpoint namings,
    /// through every test backend.</summary>
    public static IEnumerable<object[]> OnEveryNamingAndBackend<TFormat>() where TFormat : struct, Enum =>
        from format in Enum.GetValues<TFormat>()
        from naming in new[] { "bfl", "diffusers" }
        from backend in TestBackends.Names
        select new object[] { format, naming, backend };

    /// <summary>The golden case <paramref name="io"/> on <paramref name="baseFile"/> with the adapter that <paramref name="write"/>
    /// writes (at <paramref name="strength"/>) against <paramref name="reference"/> with its ΔW merged: within 1e-5, and moved
    /// by at least 0.1 from the plain model.</summary>
    public static void MatchesMerge(string io, string baseFile, string reference, string backend, string label, Action<string> write,
        ITestAdapter adapter, float strength)
    {
        using var dir = new TempDirectory();
        var file = dir.File("adapter.safetensors");
        write(file);
        var merged = dir.File("merged.safetensors");
        TestLora.Merge(reference, merged, (adapter, strength));

        using var golden = new TransformerGolden(io, backend);
        using var model = golden.LoadOnBackend(baseFile, [new LoraFile(file, strength)]);
        Assert.Empty(model.LoadWarnings);
        using var output = golden.Run(model);
        using var mergedModel = Flux2Transformer.Load(merged, golden.Backend);
        using var expected = golden.Run(mergedModel);
        using var plainModel = golden.LoadOnBackend(baseFile);
        using var plain = golden.Run(plainModel);

        var actual = golden.Values(output);
        float diff = FloatComparison.MaxAbsDiff(golden.Values(expected), actual);
        Assert.True(diff <= Tolerance, $"{baseFile} with a {label}: max abs error {diff} against the merged weights");
        float effect = FloatComparison.MaxAbsDiff(golden.Values(plain), actual);
        Assert.True(effect >= MinimumEffect, $"{baseFile} with a {label}: the output moved only {effect}");
    }

    /// <summary>tiny_klein on <paramref name="baseFile"/> with <paramref name="adapter"/>: a second pass into the same output
    /// allocates no managed memory and gives the first pass's values.</summary>
    public static void SteadyStateAllocatesNothing(string baseFile, LoraFile adapter)
    {
        using var golden = new TransformerGolden("tiny_klein");
        using var model = golden.LoadOnBackend(baseFile, [adapter]);
        using var first = golden.Run(model);
        using var output = Flux2.Core.Tensor.Zeros(first.Shape);
        model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, null, golden.ImgIds, golden.TxtIds, output);
        long allocated = SteadyStateAllocation.OnCallingThread(() =>
            model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, null, golden.ImgIds, golden.TxtIds, output));
        Assert.Equal(first.ToArray<float>(), output.ToArray<float>());
        Assert.True(allocated == 0, $"a steady-state forward pass with {adapter.Path} allocated {allocated} bytes");
    }
}
