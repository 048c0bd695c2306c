using System.Diagnostics;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Vae;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// The FLUX.2 VAE at its real shapes (block_out_channels 128/256/512/512, layers_per_block 2, 32 latent channels)
/// with random f32 weights: seconds (wall, and CPU seconds, which show contention on a shared machine) per encode /
/// decode and peak RSS (VmHWM). Each case runs in a fresh child
/// process so its peak is its own; the weights are written once to a temporary safetensors file and memory-mapped.
/// Options: --size 512,1024 (pixels), --mode encode|decode|all (default all: encode 512, decode 512 and 1024),
/// --reps R (timed runs after the first, default 0), --threads T, --weights FILE (reuse a weights file), --device cpu|cuda[:N],
/// --precision fp32|bf16. Each run is timed until the backend has finished it.
/// </summary>
internal static class VaeBench
{
    public static int Run(string[] args)
    {
        if (args.Contains("--child")) return RunChild(args);
        var sizes = (Option(args, "--size") ?? "512,1024").Split(',').Select(int.Parse).ToArray();
        var mode = Option(args, "--mode") ?? "all";
        var cases = sizes.SelectMany(s => new[] { ("encode", s), ("decode", s) })
            .Where(c => mode == c.Item1 || (mode == "all" && (c.Item1 == "decode" || c.Item2 <= 512)))
            .ToList();

        var weights = Option(args, "--weights");
        bool temporary = weights == null;
        weights ??= WriteRandomWeights(Path.Combine(Path.GetTempPath(), $"flux2-bench-vae-{Environment.ProcessId}.safetensors"));
        Console.WriteLine("each case runs in a fresh process");
        try
        {
            foreach (var (m, s) in cases)
            {
                var childArgs = new List<string> { "vae", "--child", "--weights", weights, "--size", s.ToString(), "--mode", m };
                foreach (var name in new[] { "--reps", "--threads", "--device", "--precision" })
                    if (Option(args, name) is { } value) childArgs.AddRange([name, value]);
                int code = RunProcess(childArgs);
                if (code != 0) return code;
            }
        }
        finally
        {
            if (temporary) File.Delete(weights);
        }
        return 0;
    }

    private static int RunChild(string[] args)
    {
        int size = int.Parse(Option(args, "--size")!);
        bool encode = Option(args, "--mode") == "encode";
        int reps = int.Parse(Option(args, "--reps") ?? "0");
        using var backend = Backend(args);

        using var vae = AutoencoderKLFlux2.Load(Option(args, "--weights")!, backend);
        var rng = new Random(7);
        using var input = encode
            ? Random(backend, rng, 1, 3, size, size)
            : Random(backend, rng, 1, vae.Config.LatentChannels, size / vae.Config.SpatialScale, size / vae.Config.SpatialScale);
        var times = new List<double>();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        for (int r = 0; r <= reps; r++)
        {
            times.Add(Timed(backend, () =>
            {
                using var output = encode ? vae.EncodeMoments(input) : vae.Decode(input);
            }));
        }
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / (reps + 1);
        string timed = reps == 0 ? $"{times[0] * 1e3:F1} ms" : $"first {times[0] * 1e3:F1} ms, then median {Median(times.Skip(1).ToList()) * 1e3:F1} ms";
        Console.WriteLine($"{(encode ? "encode" : "decode"),-6} {size}x{size}: {timed} ({cpuSeconds:F1} CPU-s per run); " +
            $"{PeakMemory(backend)}; {backend.Name}");
        return 0;
    }

    /// <summary>Writes the published VAE's tensors (diffusers names) to <paramref name="path"/> with uniform values of variance
    /// 1/fan_in for conv weights, small biases, unit norms and statistics; returns the path.</summary>
    internal static string WriteRandomWeights(string path)
    {
        var watch = Stopwatch.StartNew();
        var config = new VaeConfig();
        var rng = new Random(11);
        var writer = new SafeTensorsWriter();
        foreach (var t in new VaeTensorNames(VaeNaming.Diffusers, config.Levels).ExpectedTensors(config))
        {
            long n = t.Shape.Aggregate(1L, (a, d) => a * d);
            var values = new float[n];
            if (t.Shape.Length >= 2)
            {
                float bound = MathF.Sqrt(3f * t.Shape[0] / n);
                for (long i = 0; i < n; i++) values[i] = bound * (2 * rng.NextSingle() - 1);
            }
            else if (t.Name.EndsWith(".weight") || t.Name == VaeWeightMap.StatisticsVariance) // 1-D weights are norm gammas
                Array.Fill(values, 1f);
            else if (t.Name != VaeWeightMap.StatisticsMean)
                for (long i = 0; i < n; i++) values[i] = 0.02f * (2 * rng.NextSingle() - 1);
            writer.AddFloat32(t.Name, t.Shape, values);
        }
        writer.Write(path);
        Console.WriteLine($"random f32 VAE weights ({new FileInfo(path).Length / 1e6:F0} MB) written in {watch.Elapsed.TotalSeconds:F1} s");
        return path;
    }

    private static int RunProcess(List<string> args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        // Under 'dotnet Flux2.Bench.dll' the process is the dotnet host: pass the assembly first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Flux2.Bench.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var child = Process.Start(info)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    private static Tensor Random(IBackend backend, Random rng, params int[] shape)
    {
        var values = new float[shape.Aggregate(1, (a, d) => a * d)];
        for (int i = 0; i < values.Length; i++) values[i] = 2 * rng.NextSingle() - 1;
        return backend.Upload<float>(values, shape);
    }
}
