using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>The transformer pitfalls of spec §12 (items 1, 2, 5, 6, 8, 9, 20); 3, 4 and 7 are pinned by the kernel tests
/// (TimestepSinusoidTests, InterleavedRopeTests) and by the golden traces.</summary>
public class Flux2TransformerPitfallTests
{
    [Fact]
    public void BlockModulationChunksAreShiftScaleGate()
    {
        // §12.1: with modulation [shift = 10 | scale = 1 | gate = 0.5], Mod(x) = LN(x)·2 + 10 and x += 0.5·f.
        var be = TransformerGolden.Cpu;
        using var x = Tensor.FromArray([1f, 3f], 1, 1, 2);
        using var y = Tensor.Zeros(1, 1, 2);
        using var mod = Tensor.FromArray([10f, 10f, 1f, 1f, 0.5f, 0.5f], 1, 6);
        be.ModulatedLayerNorm(x, y, mod, 0, 2, 0f);
        Assert.Equal([8f, 12f], y.ToArray<float>());
        be.AddGated(x, y, mod, 4);
        Assert.Equal([5f, 9f], x.ToArray<float>());
    }

    [Fact]
    public void BflFileAndItsDiffusersConversionGiveTheSameOutput()
    {
        // §12.2: (shift, scale) from BFL rows vs (scale, shift) from diffusers rows; fused vs split qkv.
        using var golden = new TransformerGolden("tiny_dev");
        using var bfl = TransformerGolden.Load("tiny_dev", "bfl");
        using var diffusers = TransformerGolden.Load("tiny_dev", "diffusers");
        using var a = golden.Run(bfl);
        using var b = golden.Run(diffusers);
        Assert.True(FloatComparison.MaxAbsDiff(a.AsSpan<float>(), b.AsSpan<float>()) <= 1e-6f);
    }

    [Fact]
    public void KleinHasNoGuidanceEmbedderAndIgnoresGuidance()
    {
        // §12.5
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "diffusers");
        Assert.False(model.Config.GuidanceEmbeds);
        using var without = golden.Run(model);
        using var guidance = Tensor.FromArray([3.5f, 7f], 2);
        using var with = model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, guidance, golden.ImgIds, golden.TxtIds);
        Assert.Equal(without.ToArray<float>(), with.ToArray<float>());
    }

    [Fact]
    public void DevUsesGuidance()
    {
        using var golden = new TransformerGolden("tiny_dev");
        using var model = TransformerGolden.Load("tiny_dev", "bfl");
        using var reference = golden.Run(model);
        using var guidance = Tensor.FromArray([3.5f], 1);
        using var other = model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, guidance, golden.ImgIds, golden.TxtIds);
        Assert.True(FloatComparison.MaxAbsDiff(reference.AsSpan<float>(), other.AsSpan<float>()) > 1e-2f);
    }

    [Fact]
    public void RopeRowsAreTextFirst()
    {
        // §12.6: the model's table (text rows first) matches the golden; an image-first table does not.
        using var golden = new TransformerGolden("tiny_dev");
        using var model = TransformerGolden.Load("tiny_dev", "bfl");
        float[]? cos = null;
        model.Trace = (n, t) => { if (n == "rope_cos") cos = t.ToArray<float>(); };
        using var _ = golden.Run(model);
        var expected = golden.Expected("trace.rope_cos").Where((_, i) => i % 2 == 0).ToArray();
        Assert.True(FloatComparison.MaxAbsDiff(expected, cos!) <= 1e-6f);

        int txt = golden.TxtIds.Shape[1], img = golden.ImgIds.Shape[1];
        using var swapped = Tensor.Zeros(DType.Int64, txt + img, 4);
        golden.ImgIds.AsSpan<long>().CopyTo(swapped.AsSpan<long>());
        golden.TxtIds.AsSpan<long>().CopyTo(swapped.AsSpan<long>()[(img * 4)..]);
        using var swappedCos = Tensor.Zeros(txt + img, 16);
        using var swappedSin = Tensor.Zeros(txt + img, 16);
        TransformerGolden.Cpu.RopeTable(swapped, model.Config.AxesDimsRope, model.Config.RopeTheta, swappedCos, swappedSin);
        Assert.True(FloatComparison.MaxAbsDiff(expected, swappedCos.AsSpan<float>()) > 0.1f);
    }

    [Fact]
    public void FloatIdsAreRejected()
    {
        // §12.8: positions are exact integers.
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "bfl");
        using var floatIds = Tensor.FromArray(golden.ImgIds.AsSpan<long>().ToArray().Select(v => (float)v).ToArray(), golden.ImgIds.Shape);
        var e = Assert.Throws<Flux2Exception>(() => model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, null, floatIds, golden.TxtIds));
        Assert.Contains("img_ids", e.Message);
        Assert.Contains("Int64", e.Message);
    }

    [Fact]
    public void TextIdsThatDoNotMatchTheTextRowsAreAnError()
    {
        // §12.9: one RoPE row per text row, or every image row shifts.
        using var golden = new TransformerGolden("tiny_klein");
        using var model = TransformerGolden.Load("tiny_klein", "bfl");
        int txt = golden.TxtIds.Shape[1];
        using var shortIds = Tensor.FromArray(golden.TxtIds.AsSpan<long>()[..((txt - 1) * 4)], txt - 1, 4);
        var e = Assert.Throws<Flux2Exception>(() => model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, null, golden.ImgIds, shortIds));
        Assert.Contains("txt_ids", e.Message);
        Assert.Contains($"[{txt}, 4]", e.Message);
    }

    [Fact]
    public void WrongInputShapesNameTheInput()
    {
        using var golden = new TransformerGolden("tiny_dev");
        using var model = TransformerGolden.Load("tiny_dev", "bfl");
        using var hidden64 = Tensor.Zeros(1, 64, 64);
        Assert.Contains("hidden_states", Assert.Throws<Flux2Exception>(() =>
            model.Forward(hidden64, golden.Encoder, golden.Timestep, golden.Guidance, golden.ImgIds, golden.TxtIds)).Message);
        using var encoder = Tensor.Zeros(1, 20, 95);
        Assert.Contains("encoder_hidden_states", Assert.Throws<Flux2Exception>(() =>
            model.Forward(golden.Hidden, encoder, golden.Timestep, golden.Guidance, golden.ImgIds, golden.TxtIds)).Message);
        using var timestep = Tensor.Zeros(2);
        Assert.Contains("timestep", Assert.Throws<Flux2Exception>(() =>
            model.Forward(golden.Hidden, golden.Encoder, timestep, golden.Guidance, golden.ImgIds, golden.TxtIds)).Message);
    }

    [Fact]
    public void FusedQkvThirdsAreTheDiffusersProjections()
    {
        // §12.20 and the final-layer swap (§4.6), on the golden weight files.
        using var bfl = SafeTensorsFile.Open(Fixtures.Golden("tiny_dev.bfl.safetensors"));
        using var diffusers = SafeTensorsFile.Open(Fixtures.Golden("tiny_dev.diffusers.safetensors"));
        var qkv = bfl.Get("double_blocks.1.txt_attn.qkv.weight").AsSpan<ushort>();
        int third = qkv.Length / 3;
        Assert.True(qkv[..third].SequenceEqual(diffusers.Get("transformer_blocks.1.attn.add_q_proj.weight").AsSpan<ushort>()));
        Assert.True(qkv.Slice(third, third).SequenceEqual(diffusers.Get("transformer_blocks.1.attn.add_k_proj.weight").AsSpan<ushort>()));
        Assert.True(qkv[(2 * third)..].SequenceEqual(diffusers.Get("transformer_blocks.1.attn.add_v_proj.weight").AsSpan<ushort>()));
        var final = bfl.Get("final_layer.adaLN_modulation.1.weight").AsSpan<ushort>();
        var swapped = diffusers.Get("norm_out.linear.weight").AsSpan<ushort>();
        int half = final.Length / 2;
        Assert.True(final[half..].SequenceEqual(swapped[..half]));
        Assert.True(final[..half].SequenceEqual(swapped[half..]));
    }
}
