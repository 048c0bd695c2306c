namespace Flux2.Core.Checkpoints;

/// <summary>How the files of a checkpoint are arranged on disk (spec §4.2 to §4.4).</summary>
public enum CheckpointLayout
{
    /// <summary>A Hugging Face diffusers repository: model_index.json plus one folder per component.</summary>
    DiffusersRepository,
    /// <summary>One component's folder: config.json (or another *_config.json) beside its weights.</summary>
    ComponentFolder,
    /// <summary>One .safetensors file (BFL single files, ComfyUI exports, loose component weights).</summary>
    SingleFile,
    /// <summary>One .gguf file (ComfyUI-GGUF's and stable-diffusion.cpp's conversions of single files, ggml-quantized).</summary>
    GgufFile,
    /// <summary>A *.safetensors.index.json naming the shards beside it.</summary>
    ShardIndex,
    /// <summary>Components given one by one (a transformer file, a VAE file, a text encoder, a tokenizer folder).</summary>
    SeparateFiles,
}

public static class CheckpointLayoutNames
{
    public static string Describe(this CheckpointLayout layout) => layout switch
    {
        CheckpointLayout.DiffusersRepository => "diffusers repository",
        CheckpointLayout.ComponentFolder => "component folder",
        CheckpointLayout.SingleFile => "single safetensors file",
        CheckpointLayout.GgufFile => "single GGUF file",
        CheckpointLayout.ShardIndex => "sharded safetensors (index)",
        CheckpointLayout.SeparateFiles => "separate component files",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, null),
    };
}
