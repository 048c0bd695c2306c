using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Lora;

namespace Flux2.Models.Transformer;

/// <summary>The resident Down and Up of a <see cref="LowRankUpdate"/>.</summary>
internal sealed record LowRankPath(LinearWeight Down, LinearWeight Up);

/// <summary>The resident factors of a <see cref="KroneckerUpdate"/>: A as a Float32 tensor, B as a Linear weight, and a DoRA
/// module's output scales (Float32 [a·c], or null).</summary>
internal sealed record KroneckerPath(Tensor First, LinearWeight Second, LoraRowRange[] Ranges, int ScratchWidth, Tensor? OutputScales);

/// <summary>What the LoRAs run beside one Linear layer, resident on the backend: the stacked low-rank update of its LoRA and
/// LoHa modules (null when none), one Kronecker product per LoKr module, and the DoRA gain per output applied to the layer's
/// own product (null when no DoRA module adapts it). Disposing it releases what it made resident.</summary>
internal sealed class LoraSidePath : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    public LowRankPath? LowRank { get; private set; }
    public KroneckerPath[] Kronecker { get; private set; } = [];
    /// <summary>Float32 [out]: x·Wᵀ is multiplied by it column by column before the side paths add theirs.</summary>
    public Tensor? Gains { get; private set; }

    private LoraSidePath()
    {
    }

    /// <summary>Makes <paramref name="update"/> and <paramref name="kronecker"/> resident on <paramref name="backend"/>; on a
    /// failure what was made resident is released. The factors the products read are made resident in the backend's
    /// activation type: on a GPU in bf16 mode they then run on tensor cores as the layer does, where Float32 factors
    /// would take the exact fp32 path.</summary>
    public static LoraSidePath Load(IBackend backend, LowRankUpdate? update, IReadOnlyList<KroneckerUpdate> kronecker, float[]? gains)
    {
        var format = backend.ActivationDType == DType.BFloat16 ? WeightFormat.BFloat16 : WeightFormat.Float32;
        var side = new LoraSidePath();
        try
        {
            if (update != null)
                side.LowRank = new LowRankPath(side.Own(backend.LoadLinear(update.DownWeight(format))), side.Own(backend.LoadLinear(update.UpWeight(format))));
            side.Kronecker = kronecker.Select(k => new KroneckerPath(side.Own(backend.Upload(k.First, k.A, k.B)),
                side.Own(backend.LoadLinear(k.SecondWeight(format))), [.. k.Ranges], k.ScratchWidth,
                k.OutputScales.IsEmpty ? null : side.Own(backend.Upload(k.OutputScales, k.OutputScales.Length)))).ToArray();
            if (gains != null) side.Gains = side.Own(backend.Upload<float>(gains, gains.Length));
            return side;
        }
        catch
        {
            side.Dispose();
            throw;
        }
    }

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var resource in _owned) resource.Dispose();
        _owned.Clear();
    }
}
