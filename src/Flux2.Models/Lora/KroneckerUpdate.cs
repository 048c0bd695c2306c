using Flux2.Core;

namespace Flux2.Models.Lora;

/// <summary>
/// What one LoKr module adds to one Linear weight of the transformer: the outputs of ΔW = First ⊗ Second listed in
/// <see cref="Ranges"/>, run by <see cref="Core.Backend.IBackend.KroneckerLinear"/> beside the layer (the product is never
/// formed). First [A, B] carries the module's scale; Second [C, D] lives in pinned host memory until the backend makes it
/// resident.
/// </summary>
public sealed class KroneckerUpdate
{
    private readonly float[] _first, _second;
    private readonly float[]? _outputScales;

    /// <summary>The transformer weight this update belongs to (tensor name without prefix).</summary>
    public string Weight { get; }
    public int A { get; }
    public int B { get; }
    public int C { get; }
    public int D { get; }

    /// <summary>[A, B], row-major, scale included.</summary>
    public ReadOnlySpan<float> First => _first;

    /// <summary>Which outputs of the product (source rows) land in which rows of <see cref="Weight"/>.</summary>
    public IReadOnlyList<LoraRowRange> Ranges { get; }

    /// <summary>A resolved DoRA module's scale per output of the product ([A·C]); empty for a plain LoKr.</summary>
    public ReadOnlySpan<float> OutputScales => _outputScales;

    /// <summary>The side path's intermediate per input row: B·C values.</summary>
    public int ScratchWidth => B * C;

    private KroneckerUpdate(string weight, KroneckerModule module)
    {
        Weight = weight;
        (A, B, C, D) = (module.A, module.B, module.C, module.D);
        _first = module.First;
        _second = GC.AllocateArray<float>(module.Second.Length, pinned: true);
        module.Second.CopyTo(_second, 0);
        Ranges = module.Target.Ranges.Where(r => r.Weight == weight).ToArray();
        _outputScales = module.OutputScales;
    }

    internal static KroneckerUpdate For(string weight, KroneckerModule module) => new(weight, module);

    /// <summary>Second [C, D] as a Linear weight over host memory, Float32 or rounded to BFloat16 (see <see cref="FactorWeight"/>).</summary>
    public LinearWeight SecondWeight(WeightFormat format = WeightFormat.Float32) => FactorWeight.Of($"{Weight} (LoKr second factor)", C, D, _second, format);
}
