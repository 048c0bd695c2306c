using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Pipelines;

/// <summary>
/// Reported after every denoising step of every image. <see cref="Latents"/> and <see cref="Velocity"/> are the pipeline's
/// own buffers on <see cref="Backend"/>, valid only during the callback: download what you keep.
/// </summary>
/// <param name="Image">0-based index of the image being generated</param>
/// <param name="Step">1-based step just completed</param>
/// <param name="Steps">steps per image</param>
/// <param name="Elapsed">time since this image's denoising (that of its batch) started</param>
/// <param name="Velocity">Float32 [1, L_img, 128] the model prediction the step used (after CFG)</param>
/// <param name="Latents">Float32 [1, L_img, 128] the latents after the step</param>
/// <param name="BatchSize">images denoised together with this one, itself included (each is reported on its own)</param>
public sealed record DenoiseStep(int Image, int Images, int Step, int Steps, TimeSpan Elapsed, IBackend Backend, Tensor Velocity, Tensor Latents,
    int BatchSize = 1);
