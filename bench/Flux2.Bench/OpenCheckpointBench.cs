using System.Diagnostics;
using System.Globalization;
using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// What opening and inspecting a checkpoint costs before any tensor is touched: wall time and resident memory
/// (VmRSS) of <see cref="SafeTensorsCheckpoint.Open"/> and of the full <c>flux2 info</c> inspection. By default it
/// builds the real transformer's tensors as sparse shard files (no disk space, every value zero) in a temporary
/// folder. Options: --model dev|klein-4b|klein-9b (default dev), --quant none|nvfp4 (BFL names, the official
/// layer set), --shards N (default 2, diffusers names when unquantized), --reps R (default 5), --path P (inspect
/// an existing checkpoint instead).
/// </summary>
internal static class OpenCheckpointBench
{
    public static int Run(string[] args)
    {
        int reps = int.Parse(Option(args, "--reps") ?? "5", CultureInfo.InvariantCulture);
        var path = Option(args, "--path");
        string? temporary = null;
        if (path == null)
        {
            temporary = Path.Combine(Path.GetTempPath(), "flux2-open-bench-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(temporary);
            path = WriteSparse(temporary, Option(args, "--model") ?? "dev", Option(args, "--quant") ?? "none",
                int.Parse(Option(args, "--shards") ?? "2", CultureInfo.InvariantCulture));
        }
        try
        {
            // First round warms the JIT; the rest are timed.
            for (int r = 0; r <= reps; r++)
            {
                long before = Settled();
                var watch = Stopwatch.StartNew();
                using (var checkpoint = SafeTensorsCheckpoint.Open(TransformerWeights(path)))
                {
                    double openMs = watch.Elapsed.TotalMilliseconds;
                    long opened = Settled();
                    watch.Restart();
                    var inspection = CheckpointInspector.Inspect(path);
                    double inspectMs = watch.Elapsed.TotalMilliseconds;
                    long inspected = Settled();
                    if (r == 0) continue;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"open {openMs,7:F1} ms, RSS +{Mib(opened - before):F1} MiB | inspect {inspectMs,7:F1} ms, RSS +{Mib(inspected - opened):F1} MiB | " +
                        $"{checkpoint.Names.Count} tensors in {checkpoint.Files.Count} file(s), {checkpoint.TotalBytes / (double)(1L << 30):F2} GiB, " +
                        $"{(inspection.IsComplete ? "complete" : "INCOMPLETE")}, variant {inspection.Variant?.Name ?? "-"}"));
                }
            }
        }
        finally
        {
            if (temporary != null) Directory.Delete(temporary, recursive: true);
        }
        return 0;
    }

    /// <summary>The weights the path leads to: its transformer's in a repository, else the first component's.</summary>
    private static string TransformerWeights(string path)
    {
        var components = CheckpointSource.Discover(path).Components.Where(c => c.WeightsPath != null).ToList();
        return (components.FirstOrDefault(c => c.Name == "transformer") ?? components.First()).WeightsPath!;
    }

    /// <summary>Writes the sparse checkpoint and returns the path to open (a file or a shard index).</summary>
    private static string WriteSparse(string directory, string model, string quant, int shards)
    {
        var config = model switch
        {
            "dev" => Flux2Config.Dev(),
            "klein-4b" => Flux2Config.Klein4B(),
            "klein-9b" => Flux2Config.Klein9B(),
            _ => throw new ArgumentException($"--model: expected dev, klein-4b or klein-9b, got '{model}'"),
        };
        bool nvfp4 = quant == "nvfp4";
        var naming = nvfp4 ? TensorNaming.Bfl : TensorNaming.Diffusers;
        // The official NVFP4 layer set: every single-block Linear and the double blocks' image attention and both MLPs.
        bool Quantized(string weight) => nvfp4
            && (weight.StartsWith("single_blocks.", StringComparison.Ordinal)
                || (weight.StartsWith("double_blocks.", StringComparison.Ordinal) && !weight.Contains("txt_attn", StringComparison.Ordinal)
                    && !weight.Contains("norm", StringComparison.Ordinal)));
        var tensors = TransformerRequirements.For(config, naming, n => Quantized(n) ? LinearStorage.Nvfp4 : LinearStorage.Float)
            .Select(r => (r.Name, r.DTypes[0], r.Shapes[0])).ToList();
        var metadata = new Dictionary<string, string>();
        if (nvfp4)
            metadata[QuantizationMetadata.Key] = QuantizationMetadata.Build(tensors.Where(t => t.Item2 == DType.UInt8)
                .Select(t => new KeyValuePair<string, string>(t.Name[..^".weight".Length], QuantizationMetadata.Nvfp4Format)));
        if (nvfp4 || shards <= 1)
        {
            var file = Path.Combine(directory, nvfp4 ? "flux2-nvfp4.safetensors" : "diffusion_pytorch_model.safetensors");
            WriteSparseFile(file, tensors, metadata);
            return file;
        }
        var map = new List<string>();
        int per = (tensors.Count + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            var name = $"diffusion_pytorch_model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = tensors.Skip(s * per).Take(per).ToList();
            WriteSparseFile(Path.Combine(directory, name), part, metadata);
            map.AddRange(part.Select(t => $"\"{t.Name}\":\"{name}\""));
        }
        var index = Path.Combine(directory, "diffusion_pytorch_model.safetensors.index.json");
        File.WriteAllText(index, "{\"weight_map\":{" + string.Join(",", map) + "}}");
        return index;
    }

    private static void WriteSparseFile(string path, List<(string Name, DType DType, long[] Shape)> tensors, Dictionary<string, string> metadata)
    {
        var header = SafeTensorsWriter.EncodeHeader(tensors, metadata);
        long data = tensors.Sum(t => t.Shape.Aggregate((long)t.DType.SizeInBytes(), (a, d) => a * d));
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        fs.Write(BitConverter.GetBytes((ulong)header.Length));
        fs.Write(header);
        fs.SetLength(8 + header.Length + data);
    }

    private static long Settled()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    private static double Mib(long bytes) => bytes / (double)(1 << 20);
}
