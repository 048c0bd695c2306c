using Flux2.Core;
using Flux2.Models;

namespace Flux2.Pipelines.Config;

/// <summary>
/// MAX's <c>Flux2ArchConfig</c> (spec §2.4): wraps the pipeline config of a FLUX.2 architecture. The text
/// sequence into the denoiser is always 512 tokens (the padding positions act as registers), and there is
/// no LLM-style KV cache to size.
/// </summary>
public sealed record Flux2ArchConfig
{
    /// <summary>FLUX2_TEXT_SEQ_LEN: text tokens the transformer always sees.</summary>
    public const int TextSeqLen = 512;
    public const string DefaultEncoding = "bfloat16";
    public static IReadOnlySet<string> SupportedEncodings { get; } = new HashSet<string>(StringComparer.Ordinal) { "bfloat16", "float4_e2m1fnx2" };

    public PipelineConfig PipelineConfig { get; }
    public SupportedArchitecture Architecture { get; }
    /// <summary>The transformer configuration when the caller already has it (MAX's optional model_config).</summary>
    public Flux2Config? ModelConfig { get; }

    private Flux2ArchConfig(PipelineConfig pipelineConfig, SupportedArchitecture architecture, Flux2Config? modelConfig)
    {
        PipelineConfig = pipelineConfig;
        Architecture = architecture;
        ModelConfig = modelConfig;
    }

    /// <summary>The quantization encoding in effect: the one asked for, or the default.</summary>
    public string Encoding => PipelineConfig.QuantizationEncoding ?? Architecture.DefaultEncoding;

    public int GetMaxSeqLen() => TextSeqLen;

    /// <summary>Independent of the request and of the model: the denoiser's text length is fixed.</summary>
    public static int CalculateMaxSeqLen(PipelineConfig pipelineConfig, Flux2Config? modelConfig = null) => TextSeqLen;

    /// <summary>
    /// Wraps <paramref name="pipelineConfig"/> after checking what MAX checks: a registered architecture, at least
    /// one device and only one for klein. Besides <see cref="SupportedEncodings"/>, the C# engine accepts the
    /// encodings of spec §2.2 (float32 for the CPU reference path, float8_e4m3fn for FP8 checkpoints).
    /// </summary>
    public static Flux2ArchConfig Initialize(PipelineConfig pipelineConfig, Flux2Config? modelConfig = null)
    {
        var architecture = Flux2Architectures.Get(pipelineConfig.Architecture
            ?? throw new PipelineConfigException("the pipeline config names no architecture (Flux2Pipeline.Load takes it from the model)"));
        if (pipelineConfig.Devices.Count == 0) throw new PipelineConfigException($"{architecture.Name}: at least one device is required");
        if (pipelineConfig.Devices.Count > 1 && !architecture.SupportsMultipleDevices)
            throw new PipelineConfigException(
                $"{architecture.Name} runs on one device, but {pipelineConfig.Devices.Count} were given ({string.Join(", ", pipelineConfig.Devices)})");
        var encoding = pipelineConfig.QuantizationEncoding;
        if (encoding != null && !DTypeInfo.TryParseEncoding(encoding, out _))
            throw new PipelineConfigException(
                $"{architecture.Name}: unknown quantization encoding '{encoding}' (supported: {string.Join(", ", SupportedEncodings)}, float32, float16, float8_e4m3fn)");
        return new Flux2ArchConfig(pipelineConfig, architecture, modelConfig);
    }
}
