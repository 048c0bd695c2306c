using Flux2.Core;

namespace Flux2.Models.Vae;

/// <summary>A VAE checkpoint, configuration, image or latent is unusable; the message names the file, tensor or
/// size involved and what was expected.</summary>
public sealed class VaeException(string message) : Flux2Exception(message);
