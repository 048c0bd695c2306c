namespace Flux2.Core.Quantization;

internal static class QuantizationMath
{
    /// <summary>max |w|, rejecting NaN and infinities (a scale derived from them would poison the whole tensor).</summary>
    public static float AbsMax(ReadOnlySpan<float> weights, string name)
    {
        float max = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            float a = MathF.Abs(weights[i]);
            if (!float.IsFinite(a)) throw new QuantizationException($"tensor '{name}': element {i} is {weights[i]}; only finite weights can be quantized");
            max = MathF.Max(max, a);
        }
        return max;
    }
}
