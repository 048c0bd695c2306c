namespace Flux2.Models.Lora;

/// <summary>
/// Reads a LyCORIS LoKr module: ΔW = s·(w1 ⊗ w2), each half given whole (<c>lokr_w1</c>) or as a low-rank pair
/// (<c>lokr_w1_a</c>·<c>lokr_w1_b</c>), multiplied out here (each is at most the layer's size). As LyCORIS and ComfyUI apply
/// it, s = alpha / r · strength with r the rank of the factored half (the second's when both are), and s = strength when
/// both halves are whole or there is no alpha. The module runs as a Kronecker product (<see cref="KroneckerModule"/>),
/// unless its intermediate b·c per row passes max(out, in): then the whole ΔW is cheaper and is used instead.
/// </summary>
internal static class LokrReader
{
    public static AdapterModule Read(LoraModuleTensors m, float strength, PeftAlphas peftAlphas)
    {
        var target = m.Target;
        var firstHalf = ReadHalf(m, LoraTensorRole.LokrW1, LoraTensorRole.LokrW1A, LoraTensorRole.LokrW1B);
        var secondHalf = ReadHalf(m, LoraTensorRole.LokrW2, LoraTensorRole.LokrW2A, LoraTensorRole.LokrW2B);
        int a = firstHalf.Rows, b = firstHalf.Columns, c = secondHalf.Rows, d = secondHalf.Columns;
        if ((long)a * c != target.OutFeatures || (long)b * d != target.InFeatures)
            throw new LoraException($"{m.Path}: '{m.Module}': lokr_w1 [{a}, {b}] ⊗ lokr_w2 [{c}, {d}] is [{(long)a * c}, {(long)b * d}], " +
                $"the layer is [{target.OutFeatures}, {target.InFeatures}]");
        double? alpha = m.Alpha(peftAlphas);
        int? rank = secondHalf.Rank ?? firstHalf.Rank;
        float scale = alpha is { } al && rank is { } r
            ? m.FiniteScale(al / r * strength, $"alpha / rank · strength = {al} / {r} · {strength}")
            : strength;

        // Multiplied out only now that the shapes fit the layer: each half is then at most its size.
        float[] first = firstHalf.Values(), second = secondHalf.Values();
        if ((long)b * c > Math.Max(target.OutFeatures, target.InFeatures))
        {
            var delta = FactorProducts.Kronecker(first, a, b, second, c, d);
            m.RequireFinite(delta, scale, "the scaled product lokr_w1 ⊗ lokr_w2");
            return LoraModule.Dense(target, delta, scale);
        }
        m.RequireFinite(first, scale, "the scaled lokr_w1");
        m.RequireFinite(second, 1, "lokr_w2");
        for (int e = 0; e < first.Length; e++) first[e] *= scale;
        return new KroneckerModule(target, first, a, b, second, c, d);
    }

    /// <summary>One half of the product: whole (<see cref="Down"/> null) or a pair Up [rows, rank] · Down [rank, columns].</summary>
    private readonly record struct Half(float[] Up, float[]? Down, int Rows, int Columns, int? Rank)
    {
        public float[] Values() => Down is null ? Up : FactorProducts.Multiply(Up, Rows, Rank!.Value, Down, Columns);
    }

    private static Half ReadHalf(LoraModuleTensors m, LoraTensorRole whole, LoraTensorRole up, LoraTensorRole down)
    {
        string wholeName = LoraModuleTensors.Describe(whole), upName = LoraModuleTensors.Describe(up), downName = LoraModuleTensors.Describe(down);
        if (m.Has(whole))
        {
            if (m.Has(up) || m.Has(down))
                throw new LoraException($"{m.Path}: '{m.Module}' has both {wholeName} ('{m.Name(whole)}') and {(m.Has(up) ? upName : downName)}; a half is given whole or as a pair");
            var (values, rows, columns) = m.Matrix(whole, null, null, $"{wholeName} of '{m.Module}'", "a matrix");
            return new Half(values, null, rows, columns, null);
        }
        if (!m.Has(up) && !m.Has(down))
            throw new LoraException($"{m.Path}: '{m.Module}' has no {wholeName} (nor {upName} and {downName})");
        var (a, outRows, rank) = m.Matrix(up, null, null, $"{upName} of '{m.Module}'", "a matrix");
        var (b, _, inColumns) = m.Matrix(down, rank, null, $"{downName} of '{m.Module}'", $"[{rank}, columns] (the rank of '{m.Name(up)}')");
        return new Half(a, b, outRows, inColumns, rank);
    }
}
