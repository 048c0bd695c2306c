using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>
/// Reported after every denoising step of every image. <see cref="Latents"/> and <see cref="Velocity"/> are views of
/// the pipeline's own buffers, valid only during the callback: copy what you keep.
/// </summary>
/// <param name="Image">0-based index of the image being generated</param>
/// <param name="Step">1-based step just completed</param>
/// <param name="Steps">steps per image</param>
/// <param name="Elapsed">time since this image's denoising started</param>
/// <param name="Velocity">[1, L_img, 128] the model prediction the step used (after CFG)</param>
/// <param name="Latents">[1, L_img, 128] the latents after the step</param>
public sealed record DenoiseStep(int Image, int Images, int Step, int Steps, TimeSpan Elapsed, Tensor Velocity, Tensor Latents);
