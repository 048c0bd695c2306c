namespace Flux2.Models.Lora;

/// <summary>One module of one LoRA file, checked against the transformer's layer: Down = A [rank, in] and Up = B [out, rank]
/// as floats (row-major), and the scale of B·A: alpha / rank times the file's strength.</summary>
internal sealed record LoraModule(LoraModuleTarget Target, int Rank, float[] Down, float[] Up, float Scale);
