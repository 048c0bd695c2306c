using Flux2.Core;

namespace Flux2.Models.TextEncoders;

/// <summary>A text encoder's config.json, weights or inputs are not what the encoder needs; the message names the
/// file, key or tensor and what was expected.</summary>
public sealed class TextEncoderException(string message) : Flux2Exception(message);
