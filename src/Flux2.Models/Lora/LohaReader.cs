namespace Flux2.Models.Lora;

/// <summary>
/// Reads a LyCORIS LoHa module: ΔW = s·(w1_a·w1_b) ⊙ (w2_a·w2_b) with s = alpha / r₁ · strength (r₁ the rank of the first
/// pair; alpha = r₁ without one), as LyCORIS and ComfyUI apply it. The Hadamard product of two low-rank matrices is itself
/// low-rank: element (i, j) is Σ_p Σ_q w1_a[i, p]·w2_a[i, q] · w1_b[p, j]·w2_b[q, j], so the module runs as a LoRA of rank
/// r₁·r₂ with Up[i, (p, q)] = w1_a[i, p]·w2_a[i, q] and Down[(p, q), j] = w1_b[p, j]·w2_b[q, j], exactly. Where r₁·r₂ passes
/// min(out, in), the whole ΔW is cheaper and is used instead.
/// </summary>
internal static class LohaReader
{
    public static LoraModule Read(LoraModuleTensors m, float strength, PeftAlphas peftAlphas)
    {
        var target = m.Target;
        int outFeatures = target.OutFeatures, inFeatures = target.InFeatures;
        var (up1, r1) = Up(LoraTensorRole.HadaW1A);
        var down1 = Down(LoraTensorRole.HadaW1B, LoraTensorRole.HadaW1A, r1);
        var (up2, r2) = Up(LoraTensorRole.HadaW2A);
        var down2 = Down(LoraTensorRole.HadaW2B, LoraTensorRole.HadaW2A, r2);
        double alpha = m.Alpha(peftAlphas) ?? r1;
        float scale = m.FiniteScale(alpha / r1 * strength, $"alpha / rank · strength = {alpha} / {r1} · {strength}");

        long rank = (long)r1 * r2;
        if (rank > Math.Min(outFeatures, inFeatures))
        {
            var delta = FactorProducts.Multiply(up1, outFeatures, r1, down1, inFeatures);
            var second = FactorProducts.Multiply(up2, outFeatures, r2, down2, inFeatures);
            for (int e = 0; e < delta.Length; e++) delta[e] *= second[e];
            m.RequireFinite(delta, scale, "the scaled product (w1_a·w1_b) ⊙ (w2_a·w2_b)");
            return LoraModule.Dense(target, delta, scale);
        }
        int stacked = (int)rank;
        var down = new float[checked(stacked * inFeatures)];
        var up = new float[checked(outFeatures * stacked)];
        for (int p = 0; p < r1; p++)
            for (int q = 0; q < r2; q++)
            {
                var row = down.AsSpan((p * r2 + q) * inFeatures, inFeatures);
                for (int j = 0; j < inFeatures; j++) row[j] = down1[p * inFeatures + j] * down2[q * inFeatures + j];
            }
        for (int i = 0; i < outFeatures; i++)
            for (int p = 0; p < r1; p++)
                for (int q = 0; q < r2; q++) up[i * stacked + p * r2 + q] = up1[i * r1 + p] * up2[i * r2 + q];
        m.RequireFinite(down, 1, "the product of w1_b and w2_b");
        m.RequireFinite(up, scale, "the scaled product of w1_a and w2_a");
        return new LoraModule(target, stacked, down, up, scale);

        (float[] Values, int Rank) Up(LoraTensorRole role)
        {
            var (values, _, rank) = m.Matrix(role, outFeatures, null, $"the {LoraModuleTensors.Describe(role)} of '{m.Module}'",
                $"[{outFeatures}, rank] (the layer's outputs)");
            return (values, rank);
        }

        float[] Down(LoraTensorRole role, LoraTensorRole upRole, int rank) =>
            m.Matrix(role, rank, inFeatures, $"the {LoraModuleTensors.Describe(role)} of '{m.Module}'",
                $"[{rank}, {inFeatures}] (the rank of '{m.Name(upRole)}' by the layer's inputs)").Values;
    }
}
