using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.Vae;

/// <summary>
/// The latent BatchNorm statistics (<c>bn.running_mean</c>, <c>bn.running_var</c>, no affine part) over the
/// patchified channels, resident on a backend. Only VAE-encoded reference latents are normalised; the inverse runs once
/// before decoding. The initial noise already lives in the normalised space and never passes through here (spec §6.3–6.4).
/// </summary>
public sealed class VaeLatentStatistics : IDisposable
{
    private readonly IBackend _backend;
    private readonly Tensor _mean;
    private readonly Tensor _std;

    public int Channels { get; }
    public float Eps { get; }

    /// <param name="source">names the checkpoint in errors</param>
    public VaeLatentStatistics(IBackend backend, float[] runningMean, float[] runningVar, float eps, string source)
    {
        if (FindProblem(runningMean, runningVar, source) is { } problem) throw new VaeException(problem);
        _backend = backend;
        Eps = eps;
        Channels = runningMean.Length;
        // sqrt(var + eps) in fp32, as the references compute it.
        var std = runningVar.Select(v => MathF.Sqrt(v + eps)).ToArray();
        _mean = backend.Upload<float>(runningMean, Channels);
        _std = backend.Upload<float>(std, Channels);
    }

    /// <summary>Why the statistics are unusable, or null: mismatched lengths, non-finite values, a negative variance,
    /// or all zeros (an export that never stored them; MAX refuses those too rather than decode garbage).</summary>
    public static string? FindProblem(float[] runningMean, float[] runningVar, string source)
    {
        if (runningMean.Length != runningVar.Length)
            return $"{source}: bn.running_mean has {runningMean.Length} channels but bn.running_var {runningVar.Length}";
        if (runningMean.All(v => v == 0) && runningVar.All(v => v == 0))
            return $"{source}: bn.running_mean and bn.running_var are all zero; the checkpoint lacks the latent statistics";
        for (int c = 0; c < runningVar.Length; c++)
            if (!float.IsFinite(runningMean[c]) || !float.IsFinite(runningVar[c]) || runningVar[c] < 0)
                return $"{source}: bn statistics of channel {c} are invalid (mean {runningMean[c]}, var {runningVar[c]})";
        return null;
    }

    /// <summary>z_n = (z_p − mean) / sqrt(var + eps) per channel, for patchified latents [B, C, h, w], into a new tensor.</summary>
    public Tensor Normalize(Tensor patchified) => Apply(patchified, normalize: true);

    /// <summary>z_p = z_n · sqrt(var + eps) + mean per channel, for normalised latents [B, C, h, w], into a new tensor.</summary>
    public Tensor Denormalize(Tensor normalized) => Apply(normalized, normalize: false);

    private Tensor Apply(Tensor x, bool normalize)
    {
        VaeLatents.RequireLatent(x, "latent");
        if (x.Shape[1] != Channels)
            throw new VaeException($"latent {x.ShapeText} has {x.Shape[1]} channels; the VAE statistics cover {Channels}");
        var y = _backend.Allocate(DType.Float32, x.Shape);
        if (normalize) _backend.NormalizeChannels(x, _mean, _std, y);
        else _backend.DenormalizeChannels(x, _mean, _std, y);
        return y;
    }

    public void Dispose()
    {
        _mean.Dispose();
        _std.Dispose();
    }
}
