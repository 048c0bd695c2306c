using System.Numerics;
using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Gemm;

/// <summary>
/// y = x·Wᵀ for a handful of x rows (modulation and timestep MLPs): there is no reuse worth packing for, and the
/// time is spent streaming W once. Each task owns a range of weight rows; four weight rows at a time are read
/// (decoded into a cache-resident buffer when not fp32) in K slices and dotted with up to four x rows at once.
/// </summary>
internal static unsafe class SmallRowsGemm
{
    /// <summary>Up to this many x rows take this path; beyond it the packed kernels win.</summary>
    public const int MaxRows = 8;
    private const int Group = 4;
    /// <summary>K slice: four decoded rows of 4096 floats (64 KiB) stay in L2, and segments this long keep the
    /// hardware prefetcher streaming (1024 measured 30% slower on bf16 weights).</summary>
    private const int KB = 4096;
    /// <summary>Weight rows per task: many small tasks keep both threads busy to the end of the stream.</summary>
    private const int TaskRows = 64;

    public static void Run(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool)
    {
        var work = new Work { X = x, M = m, Ldx = ldx, W = w, Y = y, Ldy = ldy, Accumulate = accumulate };
        pool.For((w.OutFeatures + TaskRows - 1) / TaskRows, work);
    }

    private struct Work : IParallelWork
    {
        public float* X, Y;
        public int M, Ldx, Ldy;
        public LinearWeight W;
        public bool Accumulate;

        public readonly void Execute(int index)
        {
            int j0 = index * TaskRows, j1 = Math.Min(W.OutFeatures, j0 + TaskRows);
            float* rowBuffers = GemmScratch.Current.DecodedRows.Get(Group * KB);
            for (int j = j0; j < j1; j += Group) RunGroup(j, Math.Min(Group, j1 - j), rowBuffers);
        }

        private readonly void RunGroup(int j, int weightRows, float* rowBuffers)
        {
            int k = W.InFeatures;
            float* sums = stackalloc float[MaxRows * Group];
            new Span<float>(sums, MaxRows * Group).Clear();
            float** wRows = stackalloc float*[Group];
            for (int k0 = 0; k0 < k; k0 += KB)
            {
                int kb = Math.Min(KB, k - k0);
                // Missing weight rows repeat the last real one; their sums are dropped.
                for (int r = 0; r < Group; r++)
                    wRows[r] = r < weightRows ? PanelPacker.DecodeRow(W, j + r, k0, kb, rowBuffers + r * KB) : wRows[weightRows - 1];
                for (int i = 0; i < M; i += Group)
                {
                    float* xi = X + (long)i * Ldx + k0;
                    float* s = sums + i * Group;
                    switch (Math.Min(Group, M - i))
                    {
                        case 1: Dot<One>(xi, Ldx, wRows, kb, s); break;
                        case 2: Dot<Two>(xi, Ldx, wRows, kb, s); break;
                        case 3: Dot<Three>(xi, Ldx, wRows, kb, s); break;
                        default: Dot<Four>(xi, Ldx, wRows, kb, s); break;
                    }
                }
            }
            for (int i = 0; i < M; i++)
            {
                float* yi = Y + (long)i * Ldy + j;
                for (int r = 0; r < weightRows; r++) yi[r] = Accumulate ? yi[r] + sums[i * Group + r] : sums[i * Group + r];
            }
        }
    }

    /// <summary>The number of x rows a <see cref="Dot{TRows}"/> instantiation handles; a type argument so that the
    /// JIT compiles each count without the unused accumulators.</summary>
    private interface IRowCount
    {
        static abstract int Value { get; }
    }

    private struct One : IRowCount { public static int Value => 1; }
    private struct Two : IRowCount { public static int Value => 2; }
    private struct Three : IRowCount { public static int Value => 3; }
    private struct Four : IRowCount { public static int Value => 4; }

    /// <summary>sums[i * 4 + r] += Σp x_i[p] · w_r[p] for TRows x rows (stride ldx) and four weight rows.</summary>
    private static void Dot<TRows>(float* x, int ldx, float** w, int n, float* sums) where TRows : struct, IRowCount
    {
        int rows = TRows.Value;
        float* x0 = x, x1 = x + (rows > 1 ? ldx : 0), x2 = x + (rows > 2 ? 2L * ldx : 0), x3 = x + (rows > 3 ? 3L * ldx : 0);
        float* w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int step = Vector<float>.Count, p = 0;
        for (; p <= n - step; p += step)
        {
            var v0 = Vector.Load(w0 + p);
            var v1 = Vector.Load(w1 + p);
            var v2 = Vector.Load(w2 + p);
            var v3 = Vector.Load(w3 + p);
            var a = Vector.Load(x0 + p);
            s00 = Vector.FusedMultiplyAdd(a, v0, s00); s01 = Vector.FusedMultiplyAdd(a, v1, s01);
            s02 = Vector.FusedMultiplyAdd(a, v2, s02); s03 = Vector.FusedMultiplyAdd(a, v3, s03);
            if (rows > 1)
            {
                a = Vector.Load(x1 + p);
                s10 = Vector.FusedMultiplyAdd(a, v0, s10); s11 = Vector.FusedMultiplyAdd(a, v1, s11);
                s12 = Vector.FusedMultiplyAdd(a, v2, s12); s13 = Vector.FusedMultiplyAdd(a, v3, s13);
            }
            if (rows > 2)
            {
                a = Vector.Load(x2 + p);
                s20 = Vector.FusedMultiplyAdd(a, v0, s20); s21 = Vector.FusedMultiplyAdd(a, v1, s21);
                s22 = Vector.FusedMultiplyAdd(a, v2, s22); s23 = Vector.FusedMultiplyAdd(a, v3, s23);
            }
            if (rows > 3)
            {
                a = Vector.Load(x3 + p);
                s30 = Vector.FusedMultiplyAdd(a, v0, s30); s31 = Vector.FusedMultiplyAdd(a, v1, s31);
                s32 = Vector.FusedMultiplyAdd(a, v2, s32); s33 = Vector.FusedMultiplyAdd(a, v3, s33);
            }
        }
        sums[0] += Vector.Sum(s00); sums[1] += Vector.Sum(s01); sums[2] += Vector.Sum(s02); sums[3] += Vector.Sum(s03);
        if (rows > 1) { sums[4] += Vector.Sum(s10); sums[5] += Vector.Sum(s11); sums[6] += Vector.Sum(s12); sums[7] += Vector.Sum(s13); }
        if (rows > 2) { sums[8] += Vector.Sum(s20); sums[9] += Vector.Sum(s21); sums[10] += Vector.Sum(s22); sums[11] += Vector.Sum(s23); }
        if (rows > 3) { sums[12] += Vector.Sum(s30); sums[13] += Vector.Sum(s31); sums[14] += Vector.Sum(s32); sums[15] += Vector.Sum(s33); }
        for (; p < n; p++)
        {
            float b0 = w0[p], b1 = w1[p], b2 = w2[p], b3 = w3[p];
            for (int i = 0; i < rows; i++)
            {
                float a = x[i * ldx + p];
                float* s = sums + i * Group;
                s[0] += a * b0; s[1] += a * b1; s[2] += a * b2; s[3] += a * b3;
            }
        }
    }
}
