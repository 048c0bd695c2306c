namespace Flux2.Models.TextEncoders;

/// <summary>A tensor the text encoder reads, named as under the language model's prefix (<c>layers.3.mlp.up_proj.weight</c>),
/// with its logical shape: [out, in] for a Linear weight, which a checkpoint may store quantized (with scales beside it).</summary>
public sealed record TextEncoderTensor(string Name, long[] Shape, bool IsLinear);
