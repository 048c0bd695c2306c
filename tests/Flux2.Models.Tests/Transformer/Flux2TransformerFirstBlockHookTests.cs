using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Models.Tests.Transformer;

/// <summary>The First-Block-Cache hook point of <see cref="Flux2Transformer.Forward(Tensor, Tensor, Tensor, Tensor?, Tensor, Tensor, Tensor, IFirstBlockHook?)"/>
/// (spec §10.1): it shows the image stream before and after double block 0 and either lets the pass finish unchanged or stops it.</summary>
public class Flux2TransformerFirstBlockHookTests
{
    private sealed class RecordingHook(bool skip) : IFirstBlockHook
    {
        public float[]? Before { get; private set; }
        public float[]? After { get; private set; }

        public void BeforeFirstBlock(Tensor img) => Before = img.ToArray<float>();

        public bool SkipAfterFirstBlock(Tensor img)
        {
            After = img.ToArray<float>();
            return skip;
        }
    }

    [Fact]
    public void AHookThatContinuesLeavesTheOutputBitIdenticalAndSeesBlockZerosInputAndOutput()
    {
        using var golden = new TransformerGolden("tiny_dev");
        using var model = TransformerGolden.Load("tiny_dev", "diffusers");
        using var plain = golden.Run(model);
        var traced = new Dictionary<string, float[]>();
        model.Trace = (name, t) => { if (name is "img_in" or "double_blocks.0.img" or "double_blocks.1.img") traced[name] = t.ToArray<float>(); };
        var hook = new RecordingHook(skip: false);
        using var output = Tensor.Zeros(plain.Shape);

        Assert.True(model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, golden.Guidance, golden.ImgIds, golden.TxtIds, output, hook));

        Assert.Equal(plain.ToArray<float>(), output.ToArray<float>());
        Assert.Equal(traced["img_in"], hook.Before);
        Assert.Equal(traced["double_blocks.0.img"], hook.After);
        Assert.Contains("double_blocks.1.img", traced.Keys);
    }

    [Fact]
    public void AHookThatSkipsStopsAfterBlockZeroAndLeavesTheOutputUnwritten()
    {
        using var golden = new TransformerGolden("tiny_dev");
        using var model = TransformerGolden.Load("tiny_dev", "diffusers");
        var traced = new List<string>();
        model.Trace = (name, _) => traced.Add(name);
        using var output = Tensor.Zeros(1, golden.Hidden.Shape[1], model.Config.EffectiveOutChannels);
        output.AsSpan<float>().Fill(7f);

        Assert.False(model.Forward(golden.Hidden, golden.Encoder, golden.Timestep, golden.Guidance, golden.ImgIds, golden.TxtIds, output, new RecordingHook(skip: true)));

        Assert.All(output.ToArray<float>(), v => Assert.Equal(7f, v));
        Assert.Contains("double_blocks.0.img", traced);
        Assert.DoesNotContain("double_blocks.1.img", traced);
        Assert.DoesNotContain("final_norm", traced);
    }
}
