using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.Numerics;
using Flux2.Core.Quantization;
using Flux2.Core.Backend;
using Flux2.Cpu;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// GEMM GFLOP/s on the klein-4B block Linears with the same weights stored as bf16, FP8 (per-tensor scale) and NVFP4
/// (swizzled block scales), and with random GGUF blocks of Q8_0, Q4_K and Q6_K (the types GGUF conversions use most),
/// i.e. what decoding quantized weights in the panel packing costs, plus the weight bytes each format keeps in memory. Options: --rows M (default 512), --reps R (default 3), --threads T (default all).
/// </summary>
internal static unsafe class QuantGemmBench
{
    /// <summary>klein-4B (D 3072, MLP 9216): qkv, proj, mlp in, mlp out, single linear1, single linear2.</summary>
    private static readonly (string Name, int N, int K)[] Shapes =
        [("qkv", 9216, 3072), ("proj", 3072, 3072), ("mlp.0", 18432, 3072), ("mlp.2", 3072, 9216), ("linear1", 27648, 3072), ("linear2", 3072, 12288)];

    public static int Run(string[] args)
    {
        int m = int.Parse(Option(args, "--rows") ?? "512");
        int reps = int.Parse(Option(args, "--reps") ?? "3");
        using var pool = new ComputePool(int.Parse(Option(args, "--threads") ?? Environment.ProcessorCount.ToString()));
        var precision = Option(args, "--precision") == "bf16" ? ComputePrecision.BFloat16 : ComputePrecision.Float32;
        using var backend = new CpuBackend(pool, precision: precision);
        Console.WriteLine($"kernel: {GemmKernel.Best.Name}; products: {backend.Precision}; processors: {Environment.ProcessorCount}; rows {m}; best of {reps}");
        Console.WriteLine($"{"layer",-8} {"N",6} {"K",6} | {"bf16",7} {"fp8",7} {"nvfp4",7} {"q8_0",7} {"q4_k",7} {"q6_k",7} (GFLOP/s) | " +
            $"{"fp8",5} {"nvfp4",5} {"q8_0",5} {"q4_k",5} {"q6_k",5} (/ bf16) | weight MiB bf16 / fp8 / nvfp4 / q8_0 / q4_k / q6_k");
        foreach (var (name, n, k) in Shapes)
        {
            using var w = new Weights(n, k);
            using var x = Tensor.Zeros(m, k);
            using var y = Tensor.Zeros(m, n);
            var rng = new Random(2);
            for (long i = 0; i < (long)m * k; i++) x.Float32Pointer[i] = rng.NextSingle() - 0.5f;
            LinearWeight[] formats = [w.Bf16, w.Fp8, w.Nvfp4, w.Q8_0, w.Q4_K, w.Q6_K];
            var gflops = new double[formats.Length];
            for (int r = 0; r < reps; r++)
                for (int f = 0; f < formats.Length; f++)
                    gflops[f] = Math.Max(gflops[f], GemmGflops(m, k, n, () => backend.Linear(x, formats[f], y)));
            Console.WriteLine($"{name,-8} {n,6} {k,6} | {string.Join(" ", gflops.Select(g => $"{g,7:F1}"))}           | " +
                $"{string.Join(" ", gflops.Skip(1).Select(g => $"{g / gflops[0],5:P0}"))}         | " +
                string.Join(" / ", formats.Select(f => $"{(f.DataBytes + f.BlockScaleBytes) / 1048576.0:F1}")));
        }
        return 0;
    }

    /// <summary>One random Gaussian-like weight in the three stored formats, and random GGUF blocks, in native memory.</summary>
    private sealed class Weights : IDisposable
    {
        private readonly List<nint> _blocks = [];
        public readonly LinearWeight Bf16, Fp8, Nvfp4, Q8_0, Q4_K, Q6_K;

        public Weights(int n, int k)
        {
            var rng = new Random(1);
            var values = new float[(long)n * k];
            ushort[] bf16 = new ushort[values.Length];
            for (long i = 0; i < values.Length; i++)
            {
                bf16[i] = BFloat16Bits.FromFloat((rng.NextSingle() + rng.NextSingle() + rng.NextSingle() - 1.5f) * 0.05f);
                values[i] = BFloat16Bits.ToFloat(bf16[i]);
            }
            Bf16 = new LinearWeight("bench.bf16", n, k, WeightFormat.BFloat16, Copy<ushort>(bf16));
            var fp8 = Fp8Quantizer.Quantize(values, "bench.fp8");
            Fp8 = new LinearWeight("bench.fp8", n, k, WeightFormat.Fp8E4M3, Copy<byte>(fp8.Weight), tensorScale: fp8.WeightScale);
            var nv = Nvfp4Quantizer.Quantize(values, n, k, "bench.nvfp4");
            Nvfp4 = new LinearWeight("bench.nvfp4", n, k, WeightFormat.Nvfp4, Copy<byte>(nv.Weight), blockScales: Copy<byte>(nv.Scales),
                scalesSwizzled: nv.Swizzled, scaleColumns: k / Nvfp4Quantizer.BlockSize, tensorScale: nv.WeightScale2);
            Q8_0 = RandomBlocks(GgmlType.Q8_0, n, k, [0]);
            Q4_K = RandomBlocks(GgmlType.Q4_K, n, k, [0, 2]);
            Q6_K = RandomBlocks(GgmlType.Q6_K, n, k, [208]);
        }

        /// <summary>Random bytes as ggml blocks, the fp16 scales at <paramref name="scaleOffsets"/> of each block set to 1/1024
        /// (decoding costs the same whatever the codes; the values only need to stay finite).</summary>
        private LinearWeight RandomBlocks(GgmlType type, int n, int k, int[] scaleOffsets)
        {
            GgmlTypeInfo.TryGetLayout(type, out int blockElements, out int blockBytes);
            var bytes = new byte[(long)n * k / blockElements * blockBytes];
            new Random(3).NextBytes(bytes);
            ushort scale = BitConverter.HalfToUInt16Bits((Half)(1f / 1024));
            for (long b = 0; b < bytes.Length; b += blockBytes)
                foreach (int offset in scaleOffsets) BitConverter.TryWriteBytes(bytes.AsSpan((int)(b + offset)), scale);
            return new LinearWeight($"bench.{type}", n, k, WeightFormat.GgmlBlocks, Copy<byte>(bytes), blockType: type);
        }

        private nint Copy<T>(T[] data) where T : unmanaged
        {
            nint p = (nint)NativeMemory.AlignedAlloc((nuint)((long)data.Length * sizeof(T)), 64);
            data.AsSpan().CopyTo(new Span<T>((void*)p, data.Length));
            _blocks.Add(p);
            return p;
        }

        public void Dispose()
        {
            foreach (var p in _blocks) NativeMemory.AlignedFree((void*)p);
        }
    }
}
