using System.Diagnostics;
using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Bench;

/// <summary>What every benchmark needs around its measurement: options, peak memory, GEMM throughput.</summary>
internal static class BenchSupport
{
    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/>; null when the option or its value is absent.</summary>
    public static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The backend through the composition root: <c>--device cpu|cuda[:N]</c> (default cpu), <c>--threads T</c> (CPU;
    /// default: all processors) and <c>--precision fp32|bf16</c> (default fp32).</summary>
    public static IBackend Backend(string[] args) => Backend(args, Precision(Option(args, "--precision") ?? "fp32"));

    public static IBackend Backend(string[] args, ComputePrecision precision) => Factory(args, precision).Create(Device(args));

    /// <summary><c>--device cpu|cuda[:N]</c> (default cpu).</summary>
    public static DeviceRef Device(string[] args)
    {
        string text = Option(args, "--device") ?? "cpu";
        return DeviceRef.TryParse(text, out var device) ? device : throw new ArgumentException($"--device {text}: expected cpu or cuda[:N]");
    }

    /// <summary>The composition root's factory with <c>--threads T</c> and the precision.</summary>
    public static IBackendFactory Factory(string[] args, ComputePrecision precision) =>
        new BackendFactory(new BackendOptions { CpuThreads = Option(args, "--threads") is { } t ? int.Parse(t) : null, Precision = precision });

    /// <summary>Seconds of <paramref name="work"/> until the backend has finished it (a GPU's ops only queue).</summary>
    public static double Timed(IBackend backend, Action work)
    {
        var watch = Stopwatch.StartNew();
        work();
        backend.Synchronize();
        return watch.Elapsed.TotalSeconds;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The peak memory of the run: the CUDA backend's device memory peak and the process's peak RSS.</summary>
    public static string PeakMemory(IBackend backend) =>
        (backend is IDeviceMemoryReport device ? $"peak GPU memory {device.Memory.Peak / 1e9:F2} GB, " : "") + $"peak RSS (VmHWM) {PeakRssGb():F2} GB";

    public static ComputePrecision Precision(string text) => text switch
    {
        "fp32" => ComputePrecision.Float32,
        "bf16" => ComputePrecision.BFloat16,
        _ => throw new ArgumentException($"--precision {text}: expected fp32 or bf16"),
    };

    /// <summary>This process's peak resident set in GB; NaN where /proc has no such line. /proc/self/status pads VmHWM's kB
    /// with spaces to 8 digits after a tab, so 10 GB and more follow the tab directly.</summary>
    public static double PeakRssGb()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line == null ? double.NaN : long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) / 1e6 * 1.024;
    }

    /// <summary>Starts <see cref="PeakRssGb"/> again from the current resident set (Linux: "5" written to
    /// /proc/self/clear_refs), so that writing random weight files does not count as the model's memory.</summary>
    public static void ResetPeakRss()
    {
        if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
    }

    /// <summary>GFLOP/s of one m×k by k×n multiply; the first call also pays for JIT and page faults, so callers keep the best.</summary>
    public static double GemmGflops(int m, int k, int n, Action multiply)
    {
        var watch = Stopwatch.StartNew();
        multiply();
        return 2.0 * m * k * n / watch.Elapsed.TotalSeconds * 1e-9;
    }
}
