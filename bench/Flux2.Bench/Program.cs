using Flux2.Core.Backend;

namespace Flux2.Bench;

/// <summary>Benchmark runner: <c>dotnet run -c Release --project bench/Flux2.Bench -- NAME [options]</c>.</summary>
public static class Program
{
    /// <summary>Every benchmark: name, summary, entry point taking the remaining arguments.</summary>
    private static readonly (string Name, string Summary, Func<string[], int> Run)[] Benchmarks =
    [
        ("gemm", "GEMM GFLOP/s on the model's Linear shapes: fp32 and bf16 products vs OpenBLAS sgemm", GemmBench.Run),
        ("attention", "attention GFLOP/s on the step's and the text encoder's shapes vs the GEMM rate", AttentionBench.Run),
        ("text-encoder", "klein text encoder (Qwen3-4B shapes, 27 layers) on one 512-token prompt: seconds, peak RSS", TextEncoderBench.Run),
        ("step", "one klein-4B transformer step (random bf16 weights) at 256² and 512²: s/step, GFLOP/s, peak RSS, allocation", TransformerStepBench.RunKlein),
        ("step-dev-single", "dev-shaped single blocks (hidden 6144), random bf16 weights: s/step, GFLOP/s", TransformerStepBench.RunDevSingle),
        ("quant-gemm", "GEMM GFLOP/s on klein-4B block Linears with bf16 vs FP8 vs NVFP4 vs GGUF Q8_0/Q4_K/Q6_K weights, weight MiB per format", QuantGemmBench.Run),
        ("open-checkpoint", "open + inspect a real-size transformer checkpoint (sparse files): ms and resident MiB before any tensor is read", OpenCheckpointBench.Run),
        ("vae", "FLUX.2 VAE (real shapes, random f32 weights): encode 512², decode 512² and 1024²: seconds, peak RSS", VaeBench.Run),
        ("pipeline", "whole klein-4B images (random weights written as files): end to end, per stage, images/s, peak memory", PipelineBench.Run),
    ];

    public static int Main(string[] args)
    {
        var bench = args.Length > 0 ? Benchmarks.FirstOrDefault(b => b.Name == args[0]) : default;
        if (bench.Run == null)
        {
            Console.WriteLine("Usage: dotnet run -c Release --project bench/Flux2.Bench -- <benchmark> [options]");
            foreach (var b in Benchmarks) Console.WriteLine($"  {b.Name,-16} {b.Summary}");
            return args.Length == 0 ? 0 : 2;
        }
        try
        {
            return bench.Run(args[1..]);
        }
        catch (BackendUnavailableException e)
        {
            Console.Error.WriteLine($"{args[0]}: {e.Message}");
            return 1;
        }
    }
}
