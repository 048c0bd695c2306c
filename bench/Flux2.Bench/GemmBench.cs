using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Numerics;
using Flux2.Cpu;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// GFLOP/s of the CPU backend's Linear on the transformer's Linear shapes — fp32 products on f32 and bf16 weights, and
/// bf16 products (<see cref="ComputePrecision.BFloat16"/>, vdpbf16ps) on bf16 weights — next to OpenBLAS sgemm (f32,
/// row-major, transB) in the same process, interleaved repetition by repetition; best of the repetitions.
/// Options: --reps R (default 3), --threads 1,2 (default), --rows 768,1536 (default), --small (only the few-row shapes).
/// </summary>
internal static unsafe class GemmBench
{
    private static readonly (int K, int N)[] Shapes = [(3072, 9216), (3072, 27648), (12288, 3072), (7680, 3072)];
    /// <summary>Modulation/timestep MLPs: a few rows against a very wide weight.</summary>
    private static readonly (int M, int K, int N)[] SmallShapes = [(1, 3072, 55296), (8, 3072, 55296), (1, 3072, 18432)];

    public static int Run(string[] args)
    {
        int reps = int.Parse(Option(args, "--reps") ?? "3");
        int[] threadCounts = (Option(args, "--threads") ?? "1,2").Split(',').Select(int.Parse).ToArray();
        int[] rowCounts = (Option(args, "--rows") ?? "768,1536").Split(',').Select(int.Parse).ToArray();
        bool smallOnly = args.Contains("--small");

        var blas = OpenBlasSgemm.TryLoad();
        using (var probe = new CpuBackend(precision: ComputePrecision.BFloat16))
            Console.WriteLine($"kernel: {GemmKernel.Best.Name}; bf16 products: {(probe.Precision == ComputePrecision.BFloat16 ? "vdpbf16ps" : "not available (fp32 fallback)")}; processors: {Environment.ProcessorCount}");
        Console.WriteLine(blas == null
            ? "OpenBLAS: libopenblas.so.0 not found, printing our numbers only"
            : $"OpenBLAS core: {blas.CoreName} (OPENBLAS_CORETYPE={Env("OPENBLAS_CORETYPE")}, OPENBLAS_L2_SIZE={Env("OPENBLAS_L2_SIZE")})");
        Console.WriteLine($"best of {reps}, interleaved");
        Console.WriteLine();
        Console.WriteLine($"{"M",5} {"K",6} {"N",6} {"thr",3} | {"f32 w",9} {"bf16 w",9} {"bf16 prod",9} {"openblas",9} | {"f32/blas",8} {"prod/f32",8}   (GFLOP/s)");

        var shapes = smallOnly ? SmallShapes : rowCounts.SelectMany(m => Shapes.Select(s => (M: m, s.K, s.N))).Concat(SmallShapes).ToArray();
        foreach (var (m, k, n) in shapes)
        {
            using var operands = new Operands(m, k, n);
            foreach (int threads in threadCounts)
            {
                using var pool = new ComputePool(threads);
                using var exact = new CpuBackend(pool);
                using var reduced = new CpuBackend(pool, precision: ComputePrecision.BFloat16);
                blas?.SetThreads(threads);
                double f32 = 0, bf16 = 0, products = 0, reference = 0;
                for (int r = 0; r < reps; r++)
                {
                    f32 = Math.Max(f32, GemmGflops(m, k, n, () => exact.Linear(operands.X, operands.WeightF32, operands.Y)));
                    bf16 = Math.Max(bf16, GemmGflops(m, k, n, () => exact.Linear(operands.X, operands.WeightBf16, operands.Y)));
                    products = Math.Max(products, GemmGflops(m, k, n, () => reduced.Linear(operands.X, operands.WeightBf16, operands.Y)));
                    if (blas == null) continue;
                    reference = Math.Max(reference, GemmGflops(m, k, n,
                        () => blas.Multiply(operands.X.Float32Pointer, m, k, (float*)operands.WeightF32.Data, n, operands.Y.Float32Pointer)));
                    // OpenBLAS workers busy-wait for a while after a call; let them sleep before our next run.
                    Thread.Sleep(250);
                }
                string blasColumn = blas == null ? "-" : reference.ToString("F1");
                string blasRatio = blas == null ? "-" : (f32 / reference).ToString("P0");
                Console.WriteLine($"{m,5} {k,6} {n,6} {threads,3} | {f32,9:F1} {bf16,9:F1} {products,9:F1} {blasColumn,9} | {blasRatio,8} {products / bf16,8:F2}x");
            }
        }
        return 0;
    }

    private static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? "unset";

    /// <summary>Random x, the same weight as f32 and bf16 (bf16-representable values), and y, in native memory.</summary>
    private sealed class Operands : IDisposable
    {
        public readonly Tensor X, Y;
        public readonly LinearWeight WeightF32, WeightBf16;

        public Operands(int m, int k, int n)
        {
            X = Tensor.Zeros(m, k);
            Y = Tensor.Zeros(m, n);
            float* w32 = Allocate<float>((long)n * k);
            ushort* w16 = Allocate<ushort>((long)n * k);
            var rng = new Random(1);
            var x = X.AsSpan<float>();
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle() - 0.5f;
            for (long i = 0; i < (long)n * k; i++)
            {
                w16[i] = BFloat16Bits.FromFloat(rng.NextSingle() - 0.5f);
                w32[i] = BFloat16Bits.ToFloat(w16[i]);
            }
            WeightF32 = new LinearWeight("bench.f32", n, k, WeightFormat.Float32, (nint)w32);
            WeightBf16 = new LinearWeight("bench.bf16", n, k, WeightFormat.BFloat16, (nint)w16);
        }

        private static T* Allocate<T>(long count) where T : unmanaged => (T*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(T)), 64);

        public void Dispose()
        {
            X.Dispose();
            Y.Dispose();
            NativeMemory.AlignedFree((void*)WeightF32.Data);
            NativeMemory.AlignedFree((void*)WeightBf16.Data);
        }
    }
}
