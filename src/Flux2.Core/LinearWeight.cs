using Flux2.Core.Gguf;

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
    /// <summary>A GGUF tensor's ggml blocks (<see cref="LinearWeight.BlockType"/>: Q4_0 … Q6_K), each row whole blocks.</summary>
    GgmlBlocks,
}

/// <summary>
/// A Linear layer's weight W [OutFeatures, InFeatures], applied as y = x·Wᵀ, left in its stored format
/// (usually memory-mapped checkpoint bytes). Never expanded to a full-size f32 copy. A loader describes the stored
/// bytes on the host; <see cref="Backend.IBackend.LoadLinear"/> makes the weight resident where a backend computes
/// (the CPU keeps the mapped bytes, a device uploads them once and the resident weight owns that memory).
/// </summary>
public sealed class LinearWeight : IDisposable
{
    private IDisposable? _residentMemory;

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
    /// <summary>GgmlBlocks only: the ggml block type of the rows.</summary>
    public GgmlType BlockType { get; }
    /// <summary>Keeps the memory the pointers refer to alive (a mapped file or an owned buffer).</summary>
    public object? Owner { get; }
    /// <summary>Whether <see cref="Data"/> and <see cref="BlockScales"/> are host addresses (false: a device's memory).</summary>
    public bool IsHostAccessible { get; }

    public LinearWeight(string name, int outFeatures, int inFeatures, WeightFormat format, nint data,
        object? owner = null, nint blockScales = 0, bool scalesSwizzled = false, int scaleColumns = 0, float tensorScale = 1f,
        bool isHostAccessible = true, GgmlType blockType = default)
    {
        if (outFeatures <= 0 || inFeatures <= 0) throw new ArgumentException($"{name}: invalid shape [{outFeatures}, {inFeatures}]");
        if (format == WeightFormat.Nvfp4 && (inFeatures % 16 != 0 || blockScales == 0))
            throw new ArgumentException($"{name}: NVFP4 needs K % 16 == 0 and block scales");
        if (format == WeightFormat.GgmlBlocks
            && !(GgmlTypeInfo.TryGetLayout(blockType, out int blockElements, out _) && blockElements > 1 && inFeatures % blockElements == 0))
            throw new ArgumentException($"{name}: ggml blocks need a block-quantized type whose blocks fill each row of {inFeatures}, not {GgmlTypeInfo.Name(blockType)}");
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
        IsHostAccessible = isHostAccessible;
        BlockType = blockType;
    }

    /// <summary>The same weight at other addresses (a backend's resident copy). <paramref name="residentMemory"/>, when
    /// given, holds those addresses and is released when the returned weight is disposed.</summary>
    public LinearWeight Relocated(nint data, nint blockScales, bool isHostAccessible, IDisposable? residentMemory)
    {
        var owner = residentMemory ?? Owner;
        return new LinearWeight(Name, OutFeatures, InFeatures, Format, data, owner, blockScales, ScalesSwizzled, ScaleColumns, TensorScale,
            isHostAccessible, BlockType) { _residentMemory = residentMemory };
    }

    /// <summary>The same weight's values re-encoded in a plain float format (bf16, f16 or f32) at other addresses, its scales
    /// applied (a backend's decoded copy of an FP8, NVFP4 or ggml-block weight); released with the returned weight.</summary>
    public LinearWeight Expanded(WeightFormat format, nint data, bool isHostAccessible, IDisposable residentMemory)
    {
        if (format is not (WeightFormat.BFloat16 or WeightFormat.Float16 or WeightFormat.Float32))
            throw new ArgumentException($"{Name}: a weight expands to bf16, f16 or f32, not {format}", nameof(format));
        return new LinearWeight(Name, OutFeatures, InFeatures, format, data, residentMemory, isHostAccessible: isHostAccessible)
        {
            _residentMemory = residentMemory,
        };
    }

    /// <summary>Bytes of the block scales in their stored layout (0 for other formats).</summary>
    public long BlockScaleBytes => Format == WeightFormat.Nvfp4 ? (long)ScaleRows * ScaleColumns : 0;

    /// <summary>Rows of the stored block-scale layout: N, or N rounded up to 128 when swizzled.</summary>
    public int ScaleRows => ScalesSwizzled ? (OutFeatures + 127) / 128 * 128 : OutFeatures;

    /// <summary>Releases memory a backend allocated for this weight; a weight over mapped checkpoint bytes owns none.</summary>
    public void Dispose() => Interlocked.Exchange(ref _residentMemory, null)?.Dispose();

    /// <summary>GgmlBlocks only: bytes of one row's blocks.</summary>
    public long GgmlRowBytes
    {
        get
        {
            GgmlTypeInfo.TryGetLayout(BlockType, out int blockElements, out int blockBytes);
            return (long)InFeatures / blockElements * blockBytes;
        }
    }

    /// <summary>Bytes of weight data (excluding scales).</summary>
    public long DataBytes => Format switch
    {
        WeightFormat.Float32 => 4L * OutFeatures * InFeatures,
        WeightFormat.BFloat16 or WeightFormat.Float16 => 2L * OutFeatures * InFeatures,
        WeightFormat.Fp8E4M3 => (long)OutFeatures * InFeatures,
        WeightFormat.Nvfp4 => (long)OutFeatures * InFeatures / 2,
        WeightFormat.GgmlBlocks => GgmlRowBytes * OutFeatures,
        _ => throw new InvalidOperationException(),
    };
}
