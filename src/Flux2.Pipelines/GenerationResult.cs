using Flux2.Pipelines.Images;

namespace Flux2.Pipelines;

/// <summary>One generated image with what produced it.</summary>
/// <param name="Index">0-based position among the request's images</param>
/// <param name="PromptIndex">0-based index of the prompt the image was made for</param>
/// <param name="Seed">the noise seed (meaningless when the request injected initial latents)</param>
/// <param name="Latents">final packed latents [L_img, 128]</param>
/// <param name="Decoded">VAE output [3, H, W] before quantization to 8 bits</param>
public sealed record GeneratedImage(int Index, int PromptIndex, RgbImage Image, ulong Seed, float[] Latents, float[] Decoded);

/// <summary>Wall time of each phase of a generation.</summary>
public sealed record PhaseTimings(TimeSpan TextEncoding, TimeSpan ReferenceEncoding, TimeSpan Denoising, TimeSpan Decoding);

public sealed record GenerationResult(IReadOnlyList<GeneratedImage> Images, GenerationPlan Plan, PhaseTimings Timings);
