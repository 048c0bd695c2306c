namespace Flux2.Core.Quantization;

public enum QuantFormat
{
    Nvfp4,
    Int8,
}

public enum ScaleGranularity
{
    Tensor,
    Block,
}

public enum ScaleOrigin
{
    Static,
    Dynamic,
}

/// <summary>How one operand's scales are laid out (MAX's InputScaleSpec / WeightScaleSpec).</summary>
public sealed record ScaleSpec(ScaleGranularity Granularity, DType DType, int BlockRows, int BlockColumns, ScaleOrigin Origin = ScaleOrigin.Static);

/// <summary>
/// MAX's quantization config. For FLUX.2 only NVFP4 is built (<see cref="MakeNvfp4Config"/>); which Linears
/// actually use it is decided by Flux2BlockQuant and the checkpoint, not by the layer sets here.
/// </summary>
public sealed record QuantConfig
{
    public required QuantFormat Format { get; init; }
    public bool IsInt8W8A8 => Format == QuantFormat.Int8;
    public DType ComputeDType { get; init; } = DType.BFloat16;
    public DType EmbeddingOutputDType { get; init; } = DType.BFloat16;
    public required ScaleSpec InputScale { get; init; }
    public required ScaleSpec WeightScale { get; init; }
    /// <summary>Informational (MAX fills them with every block index); FLUX.2 uses Flux2BlockQuant instead.</summary>
    public IReadOnlySet<int> MlpQuantizedLayers { get; init; } = new HashSet<int>();
    public IReadOnlySet<int> AttnQuantizedLayers { get; init; } = new HashSet<int>();
    /// <summary>False: scales are de-interleaved at load and re-interleaved by the kernel.</summary>
    public bool ScalesPreInterleaved { get; init; }

    /// <summary>MAX's _make_nvfp4_config for a model with <paramref name="totalBlocks"/> = double + single blocks.</summary>
    public static QuantConfig MakeNvfp4Config(int totalBlocks)
    {
        var all = Enumerable.Range(0, totalBlocks).ToHashSet();
        return new QuantConfig
        {
            Format = QuantFormat.Nvfp4,
            InputScale = new ScaleSpec(ScaleGranularity.Block, DType.Float32, 1, 16, ScaleOrigin.Static),
            WeightScale = new ScaleSpec(ScaleGranularity.Block, DType.Float8E4M3, 1, 16),
            MlpQuantizedLayers = all,
            AttnQuantizedLayers = all,
            ScalesPreInterleaved = false,
        };
    }
}
