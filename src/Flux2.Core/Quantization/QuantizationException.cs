namespace Flux2.Core.Quantization;

/// <summary>A weight cannot be quantized as asked, or a checkpoint's quantized layers contradict the quantization plan.
/// The message names the tensor or layer.</summary>
public sealed class QuantizationException(string message) : Flux2Exception(message);
