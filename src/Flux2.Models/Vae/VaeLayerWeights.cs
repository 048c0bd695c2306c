using Flux2.Core;

namespace Flux2.Models.Vae;

/// <summary>A convolution's parameters, resident on a backend: the weight [Cout, Cin, k, k] viewed as a Linear
/// [Cout, Cin·k·k] in its stored format, and its bias widened to fp32.</summary>
public sealed class VaeConv(LinearWeight weight, Tensor bias, int kernelSize) : IDisposable
{
    public LinearWeight Weight { get; } = weight;
    public Tensor Bias { get; } = bias;
    public int KernelSize { get; } = kernelSize;
    public int OutChannels => Weight.OutFeatures;
    public int InChannels => Weight.InFeatures / (KernelSize * KernelSize);

    public void Dispose()
    {
        Bias.Dispose();
        Weight.Dispose();
    }
}

/// <summary>A GroupNorm's affine parameters, widened to fp32.</summary>
public sealed class VaeNorm(Tensor gamma, Tensor beta) : IDisposable
{
    public Tensor Gamma { get; } = gamma;
    public Tensor Beta { get; } = beta;

    public void Dispose()
    {
        Gamma.Dispose();
        Beta.Dispose();
    }
}
