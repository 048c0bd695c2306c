using Flux2.Core;
using Flux2.Cpu;
using Flux2.Models.Vae;

namespace Flux2.Models.Tests.Vae;

public sealed class VaeLatentsTests
{
    private static readonly CpuBackend Be = VaeGolden.Cpu;

    [Fact]
    public void Patchify_matches_a_hand_computed_2x2_example()
    {
        // One latent channel c = 1 of two, a 2x4 latent: patch (y 0, x 1) covers columns 2..3.
        var values = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        using var z = Tensor.FromArray(values, 1, 2, 2, 4);
        using var zp = VaeLatents.Patchify(Be, z);
        Assert.Equal([1, 8, 1, 2], zp.Shape);
        var p = zp.ToArray<float>();
        // Channel c·4 + dy·2 + dx at patch x: z[c, dy, 2x + dx]; z[1, dy, col] = 8 + 4·dy + col.
        float At(int channel, int x) => p[channel * 2 + x];
        Assert.Equal(8 + 0 + 2, At(1 * 4 + 0 * 2 + 0, 1));
        Assert.Equal(8 + 0 + 3, At(1 * 4 + 0 * 2 + 1, 1));
        Assert.Equal(8 + 4 + 2, At(1 * 4 + 1 * 2 + 0, 1));
        Assert.Equal(8 + 4 + 3, At(1 * 4 + 1 * 2 + 1, 1));
        Assert.Equal([0f, 2f, 1f, 3f, 4f, 6f, 5f, 7f], p[..8]);
    }

    [Fact]
    public void Unpatchify_inverts_patchify()
    {
        var rng = new Random(1);
        var values = Enumerable.Range(0, 2 * 3 * 6 * 4).Select(_ => (float)rng.NextDouble()).ToArray();
        using var z = Tensor.FromArray(values, 2, 3, 6, 4);
        using var zp = VaeLatents.Patchify(Be, z);
        using var back = VaeLatents.Unpatchify(Be, zp);
        Assert.Equal(z.Shape, back.Shape);
        Assert.Equal(values, back.ToArray<float>());
        using var again = VaeLatents.Patchify(Be, back);
        Assert.Equal(zp.ToArray<float>(), again.ToArray<float>());
    }

    [Fact]
    public void Pack_orders_tokens_row_major()
    {
        // [1, 2, 2, 3]: token y·3 + x holds (channel 0, channel 1) at (y, x).
        var values = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        using var z = Tensor.FromArray(values, 1, 2, 2, 3);
        using var tokens = VaeLatents.Pack(Be, z);
        Assert.Equal([1, 6, 2], tokens.Shape);
        Assert.Equal([0f, 6f, 1f, 7f, 2f, 8f, 3f, 9f, 4f, 10f, 5f, 11f], tokens.ToArray<float>());
        using var back = VaeLatents.Unpack(Be, tokens, 2, 3);
        Assert.Equal(values, back.ToArray<float>());
    }

    [Fact]
    public void Unpack_with_ids_scatters_by_position()
    {
        // Two tokens of a 1x2 grid given in reverse order.
        using var tokens = Tensor.FromArray([1f, 2f, 3f, 4f], 1, 2, 2);
        using var z = VaeLatents.UnpackWithIds(Be, tokens, [0L, 0, 1, 0, 0, 0, 0, 0], [1, 2, 4]);
        Assert.Equal([1, 2, 1, 2], z.Shape);
        Assert.Equal([3f, 1f, 4f, 2f], z.ToArray<float>());
    }

    [Fact]
    public void Bad_ids_and_shapes_are_named_errors()
    {
        using var tokens = Tensor.FromArray([1f, 2f, 3f, 4f], 1, 2, 2);
        Assert.Contains("two tokens", Assert.Throws<VaeException>(() => VaeLatents.UnpackWithIds(Be, tokens, [0L, 0, 1, 0, 0, 0, 1, 0], [1, 2, 4])).Message);
        Assert.Throws<VaeException>(() => VaeLatents.UnpackWithIds(Be, tokens, [0L, 0, 0, 0, 0, 0, 2, 0], [1, 2, 4]));
        Assert.Throws<VaeException>(() => VaeLatents.UnpackWithIds(Be, tokens, [0L, 0, 0, 0], [1, 1, 4]));
        Assert.Throws<VaeException>(() => VaeLatents.Unpack(Be, tokens, 3, 1));
        using var odd = Tensor.Zeros(1, 2, 3, 4);
        Assert.Contains("even", Assert.Throws<VaeException>(() => VaeLatents.Patchify(Be, odd)).Message);
    }

    [Fact]
    public void Normalisation_round_trips_and_uses_eps()
    {
        using var stats = new VaeLatentStatistics(Be, [1f, -2f], [3f, 0f], 1e-4f, "test");
        using var z = Tensor.FromArray([1f, 3f, -2f, 0f], 1, 2, 1, 2);
        using var n = stats.Normalize(z);
        var v = n.ToArray<float>();
        Assert.Equal(0f, v[0]);
        Assert.Equal(2f / MathF.Sqrt(3f + 1e-4f), v[1], 6);
        Assert.Equal(0f, v[2]);
        Assert.Equal(2f / MathF.Sqrt(1e-4f), v[3], 3);
        using var back = stats.Denormalize(n);
        var b = back.ToArray<float>();
        for (int i = 0; i < 4; i++) Assert.Equal(z.ToArray<float>()[i], b[i], 5);
    }

    [Fact]
    public void All_zero_or_invalid_statistics_are_refused()
    {
        Assert.Contains("all zero", Assert.Throws<VaeException>(() => new VaeLatentStatistics(Be, [0f, 0f], [0f, 0f], 1e-4f, "ae.safetensors")).Message);
        Assert.Throws<VaeException>(() => new VaeLatentStatistics(Be, [0f, 0f], [1f, -1f], 1e-4f, "x"));
        Assert.Throws<VaeException>(() => new VaeLatentStatistics(Be, [0f, float.NaN], [1f, 1f], 1e-4f, "x"));
        using var stats = new VaeLatentStatistics(Be, [0f, 0f], [1f, 1f], 1e-4f, "x");
        using var threeChannels = Tensor.Zeros(1, 3, 1, 1);
        Assert.Throws<VaeException>(() => stats.Normalize(threeChannels));
    }
}
