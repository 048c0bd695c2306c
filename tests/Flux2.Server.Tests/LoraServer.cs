using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary>The distilled tiny klein model with a LoRA folder requests may name LoRAs of: <c>style</c> (a LoRA on single
/// block 0's output projection), <c>misfit</c> (the same with a down weight of the wrong width) and <c>corrupt</c> (not a
/// safetensors file).</summary>
public sealed class LoraServer : ServerFixture
{
    private readonly TempDirectory _loras;

    public LoraServer() : this(new TempDirectory())
    {
    }

    private LoraServer(TempDirectory loras) : base(distilled: true, o => o with { LoraFolder = new LoraFolder(loras.Path) })
    {
        _loras = loras;
        Write(Style, inFeatures: 512);
        Write(loras.File("misfit.safetensors"), inFeatures: 100);
        File.WriteAllBytes(loras.File("corrupt.safetensors"), "not a safetensors file"u8.ToArray());
    }

    public string LoraFolderPath => _loras.Path;

    /// <summary>The file of the LoRA named <c>style</c>.</summary>
    public string Style => _loras.File("style.safetensors");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _loras.Dispose();
    }

    /// <summary>A BFL / ai-toolkit LoRA of rank 4 on single_blocks.0.linear2 ([128, 512] in tiny klein).</summary>
    private static void Write(string path, int inFeatures)
    {
        var random = new Random(21);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.4f).ToArray();
        var w = new SafeTensorsWriter();
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_A.weight", [4, inFeatures], Values(4 * inFeatures));
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_B.weight", [128, 4], Values(128 * 4));
        w.Write(path);
    }
}
