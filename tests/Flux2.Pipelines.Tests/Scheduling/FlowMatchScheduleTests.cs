using System.Text.Json;
using Flux2.Pipelines.Scheduling;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Scheduling;

public class FlowMatchScheduleTests
{
    public static TheoryData<int> GoldenEntries()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden.Value.RootElement.GetProperty("entries").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    private static readonly Lazy<JsonDocument> Golden =
        new(() => JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("scheduler.json"))));

    [Theory]
    [MemberData(nameof(GoldenEntries))]
    public void MatchesDiffusersFloat32TablesBitForBit(int index)
    {
        var entry = Golden.Value.RootElement.GetProperty("entries")[index];
        int steps = entry.GetProperty("num_inference_steps").GetInt32();
        int seqLen = entry.GetProperty("image_seq_len").GetInt32();
        var diffusers = entry.GetProperty("diffusers");

        var schedule = FlowMatchSchedule.Create(steps, seqLen);

        double mu = entry.GetProperty("mu").GetDouble();
        Assert.True(Math.Abs(schedule.Mu - mu) <= 1e-6 * Math.Abs(mu), $"mu {schedule.Mu} vs {mu}");
        Assert.Equal(Bits(diffusers, "sigmas_f32_bits"), schedule.Sigmas.Select(BitConverter.SingleToUInt32Bits).ToArray());
        Assert.Equal(Bits(diffusers, "timesteps_f32_bits"), schedule.Timesteps.Select(BitConverter.SingleToUInt32Bits).ToArray());
        Assert.Equal(Bits(diffusers, "model_timestep_f32_bits"), schedule.ModelTimesteps.Select(BitConverter.SingleToUInt32Bits).ToArray());
        var dt = diffusers.GetProperty("euler_dt").EnumerateArray().Select(e => BitConverter.SingleToUInt32Bits((float)e.GetDouble())).ToArray();
        Assert.Equal(dt, schedule.EulerDt.Select(BitConverter.SingleToUInt32Bits).ToArray());
    }

    private static uint[] Bits(JsonElement parent, string name) =>
        parent.GetProperty(name).EnumerateArray().Select(e => e.GetUInt32()).ToArray();

    /// <summary>Spec §9.9 (float64 reference values, 6 decimals).</summary>
    [Theory]
    [InlineData(1024, 1024, 4, 2.291180, new[] { 1, 0.967384, 0.908144, 0.767200, 0 })]
    [InlineData(512, 512, 4, 2.030690, new[] { 1, 0.958085, 0.883982, 0.717497, 0 })]
    [InlineData(256, 256, 4, 1.965567, new[] { 1, 0.955391, 0.877134, 0.704112, 0 })]
    [InlineData(1360, 768, 4, 2.289823, new[] { 1, 0.967341, 0.908031, 0.766958, 0 })]
    public void MatchesSpecTableFull(int width, int height, int steps, double mu, double[] sigmas)
    {
        var schedule = FlowMatchSchedule.Create(steps, width / 16 * (height / 16));
        Assert.Equal(mu, schedule.Mu, 6);
        Assert.Equal(sigmas.Length, schedule.Sigmas.Count);
        for (int i = 0; i < sigmas.Length; i++) Assert.Equal(sigmas[i], schedule.Sigmas[i], 6);
    }

    [Theory]
    [InlineData(1024, 28, 2.151443, new[] { 1, 0.995710, 0.991132, 0.986234 }, new[] { 0.398072, 0.241515, 0 })]
    [InlineData(1024, 50, 2.023351, new[] { 1, 0.997309, 0.994521, 0.991632 }, new[] { 0.239631, 0.133719, 0 })]
    [InlineData(2048, 50, 3.229986, new[] { 1, 0.999193, 0.998354 }, new[] { 0.512980, 0.340328, 0 })]
    public void MatchesSpecTableEnds(int size, int steps, double mu, double[] head, double[] tail)
    {
        var schedule = FlowMatchSchedule.Create(steps, size / 16 * (size / 16));
        Assert.Equal(mu, schedule.Mu, 6);
        Assert.Equal(steps + 1, schedule.Sigmas.Count);
        for (int i = 0; i < head.Length; i++) Assert.Equal(head[i], schedule.Sigmas[i], 6);
        for (int i = 0; i < tail.Length; i++) Assert.Equal(tail[i], schedule.Sigmas[steps + 1 - tail.Length + i], 6);
    }

    [Fact]
    public void MuHasTheDocumentedValuesAndDiscontinuity()
    {
        Assert.Equal(2.021677, EmpiricalMu.Compute(1360 / 16 * (768 / 16), 50), 6);
        Assert.Equal(2.0447, EmpiricalMu.Compute(4300, 50), 4);
        Assert.Equal(1.1847, EmpiricalMu.Compute(4301, 50), 4);
        // Above the threshold μ ignores the step count.
        Assert.Equal(EmpiricalMu.Compute(6000, 4), EmpiricalMu.Compute(6000, 50));
    }

    [Fact]
    public void StaticShiftOfThreeWouldFailTheSigmaTable()
    {
        // Pitfall 27: FLUX.1's static shift 3 gives a different second sigma than the dynamic one.
        var schedule = FlowMatchSchedule.Create(4, 4096);
        double staticShift = 3 * 0.75 / (1 + 2 * 0.75);
        Assert.NotEqual(staticShift, schedule.Sigmas[1], 3);
    }

    [Fact]
    public void CustomSigmasAreShiftedLikeTheDefaultList()
    {
        var custom = FlowMatchSchedule.FromSigmas([1.0, 0.75, 0.5, 0.25], 4096);
        var standard = FlowMatchSchedule.Create(4, 4096);
        Assert.Equal(standard.Sigmas, custom.Sigmas);
        Assert.Equal(standard.Mu, custom.Mu);

        var withZero = FlowMatchSchedule.FromSigmas([0.9, 0.0], 256);
        Assert.Equal(0f, withZero.Sigmas[1]);
        Assert.Equal(0f, withZero.Sigmas[2]);
    }

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new[] { 1.0, 1.0 })]
    [InlineData(new[] { 0.5, 0.7 })]
    [InlineData(new[] { 1.5, 0.5 })]
    [InlineData(new[] { 1.0, -0.1 })]
    [InlineData(new[] { 1.0, double.NaN })]
    public void InvalidCustomSigmasAreRejected(double[] sigmas)
    {
        Assert.Throws<SchedulerException>(() => FlowMatchSchedule.FromSigmas(sigmas, 4096));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NonPositiveStepCountsAreRejected(int steps)
    {
        var e = Assert.Throws<SchedulerException>(() => FlowMatchSchedule.Create(steps, 4096));
        Assert.Contains(steps.ToString(), e.Message);
        Assert.IsAssignableFrom<Flux2.Core.Flux2Exception>(e);
    }
}
