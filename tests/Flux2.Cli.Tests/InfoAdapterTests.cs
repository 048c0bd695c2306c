using System.Text.Json;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 info</c> on a LoRA or LyCORIS file describes the adapter and the models it fits instead of reporting a
/// transformer that lacks all its weights.</summary>
public class InfoAdapterTests
{
    /// <summary>A rank-2 PEFT LoRA on one klein-4B projection ([3072, 3072]), a DoRA one when <paramref name="dora"/>.</summary>
    private static string Klein4BLora(TempDirectory dir, bool dora = false)
    {
        var w = new SafeTensorsWriter();
        w.AddFloat32("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", [2, 3072], new float[2 * 3072]);
        w.AddFloat32("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", [3072, 2], new float[3072 * 2]);
        if (dora) w.AddFloat32("transformer.transformer_blocks.0.attn.to_q.lora_magnitude_vector", [3072], new float[3072]);
        var path = dir.File("style.safetensors");
        w.Write(path);
        return path;
    }

    [Fact]
    public void ALoraIsDescribedWithTheModelsItFits()
    {
        using var dir = new TempDirectory();
        var path = Klein4BLora(dir);
        var r = CliTestHost.Run("info", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Error);
        Assert.Contains("layout:                  adapter (LoRA / LyCORIS) safetensors file", r.Output);
        Assert.Contains("LoRA:                    1 module, rank 2, diffusers / PEFT keys", r.Output);
        Assert.Contains("fits klein-4B:           yes, 1 layer adapted", r.Output);
        Assert.Contains("fits dev:                no: tensor 'transformer.transformer_blocks.0.attn.to_q.lora_A.weight': the down weight of " +
            "'transformer_blocks.0.attn.to_q' must be [rank, 6144]", r.Output);

        using var json = JsonDocument.Parse(CliTestHost.Run("info", "--json", path).Output);
        var root = json.RootElement;
        Assert.Equal("adapter", root.GetProperty("layout").GetString());
        Assert.True(root.GetProperty("fits_a_model").GetBoolean());
        var module = Assert.Single(root.GetProperty("modules").EnumerateArray());
        Assert.Equal(2, module.GetProperty("ranks")[0].GetInt32());
        Assert.Equal(["fits", "no", "no"], root.GetProperty("fits").EnumerateArray().Select(f => f.GetProperty("level").GetString()));
    }

    [Fact]
    public void DoraModulesAreCounted()
    {
        using var dir = new TempDirectory();
        var path = Klein4BLora(dir, dora: true);
        var r = CliTestHost.Run("info", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("LoRA:                    1 module, rank 2, diffusers / PEFT keys, 1 with DoRA magnitudes", r.Output);
        Assert.Contains("fits klein-4B:           yes, 1 layer adapted", r.Output);
        using var json = JsonDocument.Parse(CliTestHost.Run("info", "--json", path).Output);
        Assert.Equal(1, Assert.Single(json.RootElement.GetProperty("modules").EnumerateArray()).GetProperty("dora").GetInt32());
    }

    [Fact]
    public void AnAdapterThatFitsNoModelExitsOne()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        w.AddFloat32("lycoris_double_blocks_0_img_attn_proj.lokr_w1", [4, 4], new float[16]);
        w.AddFloat32("lycoris_double_blocks_0_img_attn_proj.lokr_w2", [5, 5], new float[25]);
        var path = dir.File("other.safetensors");
        w.Write(path);
        var r = CliTestHost.Run("info", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("LoKr:                    1 module, factor 4, LyCORIS keys", r.Output);
        Assert.Contains("fits klein-9B:           no: 'double_blocks.0.img_attn.proj': lokr_w1 [4, 4] ⊗ lokr_w2 [5, 5] is [20, 20], the layer is [4096, 4096]", r.Output);
        Assert.Equal($"flux2 info: {path} is an adapter that fits none of klein-4B, klein-9B and dev (see the report)", Assert.Single(r.ErrorLines));
    }
}
