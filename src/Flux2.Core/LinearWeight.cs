namespace Flux2.Core;

/// <summary>How a Linear weight is stored; the GEMM decodes each format while packing its panels.</summary>
public enum WeightFormat
{
    Float32,
    BFloat16,
    Float16,
    /// <summary>F8_E4M3 [N, K] times a per-tensor <see cref="LinearWeight.TensorScale"/>.</summary>
    Fp8E4M3,
    /// <summary>Packed E2M1 [N, K/2] (high nibble = even element) with E4M3 block scales per 16 elements
    /// and a per-tensor <see cref="LinearWeight.TensorScale"/>.</summary>
    Nvfp4,
}

/// <summary>
/// A Linear layer's weight W [OutFeatures, InFeatures], applied as y = x·Wᵀ, left in its stored format
/// (usually memory-mapped checkpoint bytes). Never expanded to a full-size f32 copy.
/// </summary>
public sealed class LinearWeight
{
    public string Name { get; }
    public int OutFeatures { get; }
    public int InFeatures { get; }
    public WeightFormat Format { get; }
    /// <summary>Row-major weight bytes: [N, K] elements, or [N, K/2] bytes for NVFP4.</summary>
    public nint Data { get; }
    /// <summary>NVFP4 only: E4M3 block scales, [N, K/16] logical.</summary>
    public nint BlockScales { get; }
    /// <summary>NVFP4 only: block scales are in the swizzled 128x4 layout (else plain row-major).</summary>
    public bool ScalesSwizzled { get; }
    /// <summary>Number of 16-element scale blocks per row in the stored scale layout (padded to 4 when swizzled).</summary>
    public int ScaleColumns { get; }
    /// <summary>FP8 weight_scale or NVFP4 weight_scale_2; 1 for float formats.</summary>
    public float TensorScale { get; }
    /// <summary>Keeps the memory the pointers refer to alive (a mapped file or an owned buffer).</summary>
    public object? Owner { get; }

    public LinearWeight(string name, int outFeatures, int inFeatures, WeightFormat format, nint data,
        object? owner = null, nint blockScales = 0, bool scalesSwizzled = false, int scaleColumns = 0, float tensorScale = 1f)
    {
        if (outFeatures <= 0 || inFeatures <= 0) throw new ArgumentException($"{name}: invalid shape [{outFeatures}, {inFeatures}]");
        if (format == WeightFormat.Nvfp4 && (inFeatures % 16 != 0 || blockScales == 0))
            throw new ArgumentException($"{name}: NVFP4 needs K % 16 == 0 and block scales");
        Name = name;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Format = format;
        Data = data;
        Owner = owner;
        BlockScales = blockScales;
        ScalesSwizzled = scalesSwizzled;
        ScaleColumns = scaleColumns;
        TensorScale = tensorScale;
    }

    /// <summary>Bytes of weight data (excluding scales).</summary>
    public long DataBytes => Format switch
    {
        WeightFormat.Float32 => 4L * OutFeatures * InFeatures,
        WeightFormat.BFloat16 or WeightFormat.Float16 => 2L * OutFeatures * InFeatures,
        WeightFormat.Fp8E4M3 => (long)OutFeatures * InFeatures,
        WeightFormat.Nvfp4 => (long)OutFeatures * InFeatures / 2,
        _ => throw new InvalidOperationException(),
    };
}
