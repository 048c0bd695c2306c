namespace Flux2.Models.Lora;

/// <summary>One module of one LoRA file, checked against the transformer's layer it adapts.</summary>
internal abstract record AdapterModule(LoraModuleTarget Target);

/// <summary>A low-rank module: Down = A [rank, in] and Up = B [out, rank] as floats (row-major), and the scale of B·A: alpha /
/// rank times the file's strength. LoRA pairs are read as they are; LoHa modules and deltas given whole are factored into
/// this form.</summary>
internal sealed record LoraModule(LoraModuleTarget Target, int Rank, float[] Down, float[] Up, float Scale) : AdapterModule(Target)
{
    /// <summary>A whole delta ΔW [out, in] as an exact factorization of rank min(out, in): ΔW·I_in, or I_out·ΔW when the
    /// layer has fewer outputs than inputs. Used where a structured module would cost more than that.</summary>
    public static LoraModule Dense(LoraModuleTarget target, float[] delta, float scale)
    {
        int outFeatures = target.OutFeatures, inFeatures = target.InFeatures;
        if (inFeatures <= outFeatures)
            return new LoraModule(target, inFeatures, Identity(inFeatures), delta, scale);
        return new LoraModule(target, outFeatures, delta, Identity(outFeatures), scale);
    }

    private static float[] Identity(int n)
    {
        var identity = new float[checked(n * n)];
        for (int i = 0; i < n; i++) identity[i * n + i] = 1;
        return identity;
    }
}

/// <summary>A LyCORIS LoKr module: ΔW = A ⊗ B with A [a, b] (the scale folded in) and B [c, d], a·c the layer's outputs and
/// b·d its inputs, each factor as floats (row-major, a low-rank factor multiplied out).</summary>
internal sealed record KroneckerModule(LoraModuleTarget Target, float[] First, int A, int B, float[] Second, int C, int D) : AdapterModule(Target);
