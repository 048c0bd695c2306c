namespace Flux2.Core.Gguf;

/// <summary>Element types of GGUF tensors, with ggml's numbers (ggml.h <c>enum ggml_type</c>).</summary>
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

public static class GgmlTypeInfo
{
    /// <summary>Elements per block and bytes per block of a type this library reads (plain types are blocks of one);
    /// false for the others (the importance-matrix IQ types, ternary and FP4 blocks, the Q8_1 / Q8_K activation types).</summary>
    public static bool TryGetLayout(GgmlType type, out int blockElements, out int blockBytes)
    {
        (blockElements, blockBytes) = type switch
        {
            GgmlType.F32 or GgmlType.I32 => (1, 4),
            GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => (1, 2),
            GgmlType.F64 or GgmlType.I64 => (1, 8),
            GgmlType.I8 => (1, 1),
            GgmlType.Q4_0 => (32, 18),
            GgmlType.Q4_1 => (32, 20),
            GgmlType.Q5_0 => (32, 22),
            GgmlType.Q5_1 => (32, 24),
            GgmlType.Q8_0 => (32, 34),
            GgmlType.Q2_K => (256, 84),
            GgmlType.Q3_K => (256, 110),
            GgmlType.Q4_K => (256, 144),
            GgmlType.Q5_K => (256, 176),
            GgmlType.Q6_K => (256, 210),
            _ => (0, 0),
        };
        return blockElements != 0;
    }

    /// <summary>Whether values of this type are stored in quantized blocks (decoded by <see cref="Flux2.Core.Decoding.GgmlBlockDecoder"/>).</summary>
    public static bool IsBlockQuantized(GgmlType type) => TryGetLayout(type, out int elements, out _) && elements > 1;

    /// <summary>The dtype a plain (non-block) type's elements have in memory.</summary>
    public static DType PlainDType(GgmlType type) => type switch
    {
        GgmlType.F32 => DType.Float32,
        GgmlType.F16 => DType.Float16,
        GgmlType.BF16 => DType.BFloat16,
        GgmlType.F64 => DType.Float64,
        GgmlType.I8 => DType.Int8,
        GgmlType.I16 => DType.Int16,
        GgmlType.I32 => DType.Int32,
        GgmlType.I64 => DType.Int64,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "a block-quantized type has no plain dtype"),
    };

    /// <summary>ggml's name of the type ("Q4_K"); a number ggml does not define is shown as such.</summary>
    public static string Name(GgmlType type) => Enum.IsDefined(type) ? type.ToString() : $"type {(int)type}";
}
