using Flux2.Core;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>The transformer against the golden DiT cases (golden README §1): fp32, atol 1e-4 on outputs and traces, through the
/// CPU backend and the opaque test backend.</summary>
public class Flux2TransformerGoldenTests
{
    private const float Tolerance = 1e-4f;

    public static IEnumerable<object[]> Cases =>
        from name in new[] { "tiny_dev", "tiny_klein", "head128" }
        from naming in new[] { "bfl", "diffusers" }
        from backend in TestBackends.Names
        select new object[] { name, naming, backend };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputAndTracesMatch(string name, string naming, string backend)
    {
        using var golden = new TransformerGolden(name, backend);
        using var model = golden.LoadOnBackend($"{name}.{naming}.safetensors");
        var traced = new Dictionary<string, float[]>();
        model.Trace = (n, t) => traced[n] = golden.Values(t);
        using var output = golden.Run(model);

        Assert.True(FloatComparison.MaxAbsDiff(golden.Expected("outputs.sample"), golden.Values(output)) <= Tolerance);
        int compared = 0;
        foreach (var traceName in golden.Io.Names.Where(n => n.StartsWith("trace.", StringComparison.Ordinal) && !n.StartsWith("trace.rope_", StringComparison.Ordinal)))
        {
            var key = traceName["trace.".Length..];
            Assert.True(traced.ContainsKey(key), $"no trace '{key}'");
            float diff = FloatComparison.MaxAbsDiff(golden.Expected(traceName), traced[key]);
            Assert.True(diff <= Tolerance, $"{traceName}: max abs error {diff}");
            compared++;
        }
        Assert.True(compared >= 14);
        // The golden RoPE tables repeat each pair's value; ours hold one value per pair.
        var cos = golden.Expected("trace.rope_cos");
        Assert.True(FloatComparison.MaxAbsDiff(cos.Where((_, i) => i % 2 == 0).ToArray(), traced["rope_cos"]) <= 1e-6f);
    }

    [Fact]
    public void SecondCallReusesBuffersAndGivesTheSameOutput()
    {
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "bfl");
        using var first = golden.Run(model);
        using var output = Tensor.Zeros(first.Shape);
        void Forward() => model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, null, golden.ImgIds, golden.TxtIds, output);
        Forward();
        long allocated = SteadyStateAllocation.OnCallingThread(Forward);
        Assert.Equal(first.ToArray<float>(), output.ToArray<float>());
        Assert.True(allocated == 0, $"a steady-state forward pass allocated {allocated} bytes");
    }
}
