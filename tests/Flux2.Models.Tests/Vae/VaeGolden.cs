using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.Vae;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Vae;

/// <summary>The vae_small golden case on a test backend: its io tensors, its weights in either naming, and comparisons.</summary>
internal sealed class VaeGolden : IDisposable
{
    /// <summary>fp32 tolerance of the golden README for latents and the decoder's intermediates.</summary>
    public const float Atol = 1e-4f;
    /// <summary>The decoded image goes through more layers at full resolution.</summary>
    public const float DecodedAtol = 2e-4f;

    /// <summary>The CPU backend of the tests that do not compare backends.</summary>
    public static readonly CpuBackend Cpu = new();

    /// <param name="backend">a <see cref="TestBackends"/> name</param>
    public VaeGolden(string backend = TestBackends.Cpu)
    {
        Backend = backend == TestBackends.Cpu ? Cpu : TestBackends.Create(backend);
    }

    public IBackend Backend { get; }

    public SafeTensorsFile Io { get; } = SafeTensorsFile.Open(Fixtures.Golden("vae_small.io.safetensors"));

    public static string WeightsPath(string naming) => Fixtures.Golden($"vae_small.{naming}.safetensors");

    /// <summary>The golden VAE on the CPU backend.</summary>
    public static AutoencoderKLFlux2 Load(string naming) => AutoencoderKLFlux2.Load(WeightsPath(naming), Cpu);

    /// <summary>The golden VAE on this case's backend.</summary>
    public AutoencoderKLFlux2 LoadOnBackend(string naming) => AutoencoderKLFlux2.Load(WeightsPath(naming), Backend);

    public Tensor Float(string name) => Backend.Upload<float>(Io.Get(name).ToFloat32Array(), Shape(name));

    public long[] Longs(string name) => Io.Get(name).ToInt64Array();

    public int[] Shape(string name) => Io.Get(name).Shape.Select(d => checked((int)d)).ToArray();

    /// <summary>A tensor of this case's backend, downloaded.</summary>
    public T[] Values<T>(Tensor t) where T : unmanaged => Backend.Download<T>(t);

    /// <summary>Asserts <paramref name="actual"/> has the golden tensor's shape and lies within <paramref name="atol"/>.</summary>
    public void AssertClose(string name, Tensor actual, float atol = Atol)
    {
        var expected = Io.Get(name);
        Assert.Equal(expected.Shape.Select(d => (int)d).ToArray(), actual.Shape);
        float diff = FloatComparison.MaxAbsDiff(expected.ToFloat32Array(), Backend.DownloadFloat32(actual));
        Assert.True(diff <= atol, $"{name}: max |actual - golden| = {diff} > {atol}");
    }

    /// <summary>A trace that checks every activation with a golden <c>trace.*</c> counterpart and counts them.</summary>
    public VaeTrace Checker(List<string> seen, float atol = Atol) => (name, value) =>
    {
        if (!Io.Contains("trace." + name)) return;
        AssertClose("trace." + name, value, atol);
        seen.Add(name);
    };

    public void Dispose()
    {
        Io.Dispose();
        if (Backend != Cpu) Backend.Dispose();
    }
}
