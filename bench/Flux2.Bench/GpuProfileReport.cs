using Flux2.Cuda;

namespace Flux2.Bench;

/// <summary>Where a GPU run's time goes (a transformer step, a whole image): its profile (<see cref="CudaBackend.StartProfile"/>)
/// as GEMM, attention and the other kernels, their sum against the run's time (the rest is the GPU waiting for launches,
/// copies and the host), and the ops that took the most.</summary>
internal static class GpuProfileReport
{
    private const int Rows = 12;

    /// <param name="label">what ran, e.g. "1024x1024 step"</param>
    /// <param name="milliseconds">its time, timed without the profile</param>
    public static void Print(string label, IReadOnlyList<GpuOpTime> times, double milliseconds)
    {
        double gemm = Sum(times, IsGemm), attention = Sum(times, t => !IsGemm(t) && t.Name.Contains("attention")), all = Sum(times, _ => true);
        Console.WriteLine($"PROFILE {label}: GEMM {gemm:F1} ms, attention {attention:F1} ms, other kernels {all - gemm - attention:F1} ms; " +
            $"ops {all:F1} ms of {milliseconds:F1} ms ({times.Sum(t => t.Calls)} ops)");
        foreach (var t in times.Take(Rows))
            Console.WriteLine($"  {t.Name,-48} {t.Calls,5} × {t.Milliseconds / t.Calls * 1e3,9:F1} µs = {t.Milliseconds,7:F2} ms ({t.Milliseconds / all * 100,4:F1} %)");
    }

    private static bool IsGemm(GpuOpTime t) => t.Name.StartsWith("matmul", StringComparison.Ordinal);

    private static double Sum(IReadOnlyList<GpuOpTime> times, Func<GpuOpTime, bool> which) => times.Where(which).Sum(t => t.Milliseconds);
}
