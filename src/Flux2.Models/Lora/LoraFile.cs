namespace Flux2.Models.Lora;

/// <summary>A LoRA to apply to the transformer: a .safetensors file (diffusers/PEFT, kohya or BFL / ai-toolkit keys) and
/// the strength it is applied with, multiplying the file's own alpha / rank (1 = as trained, 0 = off, negative = inverted).</summary>
public sealed record LoraFile(string Path, float Scale = 1f);
