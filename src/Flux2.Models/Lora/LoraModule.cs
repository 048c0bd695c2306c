namespace Flux2.Models.Lora;

/// <summary>One module of one LoRA file, checked against the transformer's layer it adapts.</summary>
internal abstract record AdapterModule(LoraModuleTarget Target)
{
    /// <summary>The module's DoRA magnitudes, when it has them (its update is then read at strength 1).</summary>
    public WeightDecomposition? Decomposition { get; init; }

    /// <summary>row += ΔW[<paramref name="outputRow"/>, :], the module's update of one output (a row of the layer's inputs).</summary>
    public abstract void AddDeltaRow(int outputRow, Span<float> row);
}

/// <summary>A DoRA module's magnitudes m, one per output row of the module, and the strength its file (<paramref name="Path"/>)
/// is applied at. With ΔW its update (read at strength 1) and c = m / (‖W + ΔW‖ + ε) row by row (ε = float epsilon, as
/// LyCORIS), the layer's weight W becomes W + strength·(c ⊙ (W + ΔW) − W): the trained weight at strength 1, the stored one
/// at 0.</summary>
internal sealed record WeightDecomposition(float[] Magnitude, float Strength, string Path);

/// <summary>A low-rank module: Down = A [rank, in] and Up = B [out, rank] as floats (row-major), and the scale of B·A: alpha /
/// rank times the file's strength. LoRA pairs are read as they are; LoHa modules and deltas given whole are factored into
/// this form.</summary>
internal sealed record LoraModule(LoraModuleTarget Target, int Rank, float[] Down, float[] Up, float Scale) : AdapterModule(Target)
{
    /// <summary>Whether the module is a whole ΔW made by <see cref="Dense"/> (one factor the identity).</summary>
    private bool Whole { get; init; }

    /// <summary>A whole delta ΔW [out, in] as an exact factorization of rank min(out, in): ΔW·I_in, or I_out·ΔW when the
    /// layer has fewer outputs than inputs. Used where a structured module would cost more than that.</summary>
    public static LoraModule Dense(LoraModuleTarget target, float[] delta, float scale)
    {
        int outFeatures = target.OutFeatures, inFeatures = target.InFeatures;
        if (inFeatures <= outFeatures)
            return new LoraModule(target, inFeatures, Identity(inFeatures), delta, scale) { Whole = true };
        return new LoraModule(target, outFeatures, delta, Identity(outFeatures), scale) { Whole = true };
    }

    /// <summary>ΔW[outputRow, :] = Scale·Σ_k Up[outputRow, k]·Down[k, :] (the delta's row itself when the module is whole).</summary>
    public override void AddDeltaRow(int outputRow, Span<float> row)
    {
        int inFeatures = Target.InFeatures;
        var coefficients = Up.AsSpan(outputRow * Rank, Rank);
        if (Whole)
        {
            // ΔW·I or I·ΔW: the row is stored in Up (inputs ≤ outputs) or in Down.
            FactorProducts.AddScaled(Scale, inFeatures <= Target.OutFeatures ? coefficients : Down.AsSpan(outputRow * inFeatures, inFeatures), row);
            return;
        }
        // Four rows of Down per pass over the row: the row is loaded and stored a quarter as often.
        int k = 0;
        for (; k + 4 <= Rank; k += 4)
            FactorProducts.AddScaled4(Down.AsSpan(k * inFeatures, 4 * inFeatures), Scale * coefficients[k], Scale * coefficients[k + 1],
                Scale * coefficients[k + 2], Scale * coefficients[k + 3], row);
        for (; k < Rank; k++) FactorProducts.AddScaled(Scale * coefficients[k], Down.AsSpan(k * inFeatures, inFeatures), row);
    }

    private static float[] Identity(int n)
    {
        var identity = new float[checked(n * n)];
        for (int i = 0; i < n; i++) identity[i * n + i] = 1;
        return identity;
    }
}

/// <summary>A LyCORIS LoKr module: ΔW = A ⊗ B with A [a, b] (the scale folded in) and B [c, d], a·c the layer's outputs and
/// b·d its inputs, each factor as floats (row-major, a low-rank factor multiplied out). A resolved DoRA module also scales
/// each of its outputs (<see cref="OutputScales"/>, [a·c]).</summary>
internal sealed record KroneckerModule(LoraModuleTarget Target, float[] First, int A, int B, float[] Second, int C, int D) : AdapterModule(Target)
{
    public float[]? OutputScales { get; init; }

    /// <summary>ΔW[i·c + k, j·d + l] = A[i, j]·B[k, l].</summary>
    public override void AddDeltaRow(int outputRow, Span<float> row) => FactorProducts.AddKroneckerRow(First, B, Second, C, D, outputRow, row);
}
