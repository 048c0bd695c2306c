using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;
using GemmOp = Flux2.Cpu.Gemm.Gemm;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>The bf16 path: the emitted <c>vdpbf16ps</c> microkernel against the oracle that rounds both operands to bf16
/// (products of bf16 values are exact in fp32, so only the order of the fp32 sums differs), its machine code, and the
/// fallback to fp32 where it cannot run.</summary>
public unsafe class Bf16GemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (12, 32, 2), (13, 33, 3), (7, 31, 17), (25, 64, 384), (24, 65, 385), (100, 100, 777), (37, 1100, 64), (400, 40, 20),
    ];

    [Theory]
    [InlineData(WeightFormat.BFloat16)]
    [InlineData(WeightFormat.Float32)]
    [InlineData(WeightFormat.Float16)]
    public void MatchesTheRoundedOracle(WeightFormat format)
    {
        var kernel = Bf16Kernel.Required();
        foreach (var (m, n, k) in Shapes)
            foreach (bool accumulate in new[] { false, true })
            {
                var ops = new GemmOperands(m, n, k, format, ldxPad: accumulate ? 3 : 0, ldyPad: accumulate ? 5 : 0, seed: m * 31 + n * 7 + k);
                var expected = (float[])ops.Y.Clone();
                fixed (float* x = ops.X, y = ops.Y, e = expected)
                {
                    GemmOp.MultiplyBf16(kernel, x, m, ops.Ldx, ops.W, y, ops.Ldy, accumulate, ComputePool.Shared);
                    GemmReference.MultiplyBf16(x, m, ops.Ldx, ops.W, e, ops.Ldy, accumulate);
                }
                float tolerance = 2e-6f * k + 1e-6f; // fp32 sum order only, as the fp32 kernels
                for (int i = 0; i < expected.Length; i++)
                    if (!(Math.Abs(expected[i] - ops.Y[i]) <= tolerance))
                        Assert.Fail($"{format} M={m} N={n} K={k} accumulate={accumulate}: element {i} is {ops.Y[i]}, expected {expected[i]}");
            }
    }

    [Fact]
    public void RoundsTheActivationsToBf16()
    {
        // 1 + 2^-10 is not a bf16 value: an fp32 product would keep it, the bf16 path rounds it to 1.
        var kernel = Bf16Kernel.Required();
        var ops = new GemmOperands(12, 32, 4, WeightFormat.BFloat16);
        Array.Fill(ops.X, 1f + MathF.Pow(2, -10));
        var bf16 = (float[])ops.Y.Clone();
        var fp32 = (float[])ops.Y.Clone();
        fixed (float* x = ops.X, y = bf16, f = fp32)
        {
            GemmOp.MultiplyBf16(kernel, x, 12, ops.Ldx, ops.W, y, ops.Ldy, false, ComputePool.Shared);
            GemmOp.Multiply(GemmKernel.Best, x, 12, ops.Ldx, ops.W, f, ops.Ldy, false, ComputePool.Shared);
        }
        Assert.NotEqual(fp32, bf16);
        ops.X.AsSpan().Fill(1f);
        var ones = (float[])ops.Y.Clone();
        fixed (float* x = ops.X, y = ones) GemmOp.Multiply(GemmKernel.Best, x, 12, ops.Ldx, ops.W, y, ops.Ldy, false, ComputePool.Shared);
        Assert.Equal(ones, bf16);
    }

    [Fact]
    public void TheBackendFallsBackToFp32WithoutTheKernel()
    {
        using var fallback = new CpuBackend(null, false, ComputePrecision.BFloat16, bf16Kernel: null);
        using var exact = new CpuBackend();
        Assert.Equal(ComputePrecision.Float32, fallback.Precision);
        var ops = new GemmOperands(40, 70, 90, WeightFormat.BFloat16);
        using var x = Tensor.FromArray(ops.X, 40, 90);
        using var a = Tensor.Zeros(40, 70);
        using var b = Tensor.Zeros(40, 70);
        fallback.Linear(x, ops.W, a);
        exact.Linear(x, ops.W, b);
        Assert.Equal(b.ToArray<float>(), a.ToArray<float>());
        using var asked = new CpuBackend(precision: ComputePrecision.BFloat16);
        Assert.Equal(Bf16MicroKernel.Available != null ? ComputePrecision.BFloat16 : ComputePrecision.Float32, asked.Precision);
    }

    /// <summary>The assembler's bytes for instructions of the kernel, against GNU as assembling the same text (registers chosen
    /// to set every EVEX register-extension bit).</summary>
    private static readonly (string Bytes, Action<EvexAssembler> Emit)[] Encodings =
    [
        ("62 F1 7D 48 EF C0", a => a.ZeroZmm(0)),                                          // vpxord zmm0,zmm0,zmm0
        ("62 01 05 40 EF FF", a => a.ZeroZmm(31)),                                         // vpxord zmm31,zmm31,zmm31
        ("62 A1 75 40 EF C9", a => a.ZeroZmm(17)),                                         // vpxord zmm17,zmm17,zmm17
        ("62 61 7C 48 10 02", a => a.LoadZmm(24, EvexAssembler.Gpr.Rdx, 0)),               // vmovups zmm24,[rdx]
        ("62 61 7C 48 10 4A 01", a => a.LoadZmm(25, EvexAssembler.Gpr.Rdx, 64)),           // vmovups zmm25,[rdx+0x40]
        ("62 62 7D 48 58 16", a => a.BroadcastDword(26, EvexAssembler.Gpr.Rsi, 0)),        // vpbroadcastd zmm26,[rsi]
        ("62 62 7D 48 58 6E 0B", a => a.BroadcastDword(29, EvexAssembler.Gpr.Rsi, 44)),    // vpbroadcastd zmm29,[rsi+0x2c]
        ("62 92 3E 40 52 C2", a => a.DotBf16(0, 24, 26)),                                  // vdpbf16ps zmm0,zmm24,zmm26
        ("62 82 36 40 52 FD", a => a.DotBf16(23, 25, 29)),                                 // vdpbf16ps zmm23,zmm25,zmm29
        ("62 92 36 40 52 FB", a => a.DotBf16(7, 25, 27)),                                  // vdpbf16ps zmm7,zmm25,zmm27
        ("0F 0D 08", a => a.PrefetchForWrite(EvexAssembler.Gpr.Rax, 0)),                   // prefetchw [rax]
        ("0F 0D 48 40", a => a.PrefetchForWrite(EvexAssembler.Gpr.Rax, 64)),               // prefetchw [rax+0x40]
        ("48 89 C8", a => a.MoveRegister(EvexAssembler.Gpr.Rax, EvexAssembler.Gpr.Rcx)),   // mov rax,rcx
        ("62 E1 54 40 58 69 01", a => a.AddZmmMemory(21, EvexAssembler.Gpr.Rcx, 64)),      // vaddps zmm21,zmm21,[rcx+0x40]
        ("62 F1 64 48 58 19", a => a.AddZmmMemory(3, EvexAssembler.Gpr.Rcx, 0)),           // vaddps zmm3,zmm3,[rcx]
        ("62 E1 7C 48 11 31", a => a.StoreZmm(EvexAssembler.Gpr.Rcx, 0, 22)),              // vmovups [rcx],zmm22
        ("62 F1 7C 48 11 79 01", a => a.StoreZmm(EvexAssembler.Gpr.Rcx, 64, 7)),           // vmovups [rcx+0x40],zmm7
        ("48 81 C2 80 00 00 00", a => a.AddImmediate(EvexAssembler.Gpr.Rdx, 128)),         // add rdx,0x80
        ("4C 01 C1", a => a.AddRegister(EvexAssembler.Gpr.Rcx, EvexAssembler.Gpr.R8)),     // add rcx,r8
        ("4C 01 CE", a => a.AddRegister(EvexAssembler.Gpr.Rsi, EvexAssembler.Gpr.R9)),     // add rsi,r9
        ("48 FF CF", a => a.Decrement(EvexAssembler.Gpr.Rdi)),                             // dec rdi
        ("C5 F8 77", a => a.VZeroUpper()),
    ];

    public static TheoryData<int> EncodingCases => new(Enumerable.Range(0, Encodings.Length));

    [Theory]
    [MemberData(nameof(EncodingCases))]
    public void EncodingsMatchTheGnuAssembler(int index)
    {
        var asm = new EvexAssembler();
        Encodings[index].Emit(asm);
        Assert.Equal(Encodings[index].Bytes, string.Join(" ", asm.ToArray().Select(b => b.ToString("X2"))));
    }

    [Fact]
    public void TheLoopJumpsBackToItsStart()
    {
        var asm = new EvexAssembler();
        asm.Decrement(EvexAssembler.Gpr.Rdi);
        asm.JumpIfNotZero(0);
        // jnz rel32 from the end of the 9 bytes back to 0: −9.
        Assert.Equal("48 FF CF 0F 85 F7 FF FF FF", string.Join(" ", asm.ToArray().Select(b => b.ToString("X2"))));
    }
}
