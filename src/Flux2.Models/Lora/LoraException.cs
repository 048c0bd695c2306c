using Flux2.Core;

namespace Flux2.Models.Lora;

/// <summary>A LoRA file cannot be applied to the transformer: keys that adapt none of its layers, a missing half of a
/// low-rank pair, or a shape that does not fit the layer. The message names the file, the tensor or module and what was expected.</summary>
public sealed class LoraException(string message) : Flux2Exception(message);
