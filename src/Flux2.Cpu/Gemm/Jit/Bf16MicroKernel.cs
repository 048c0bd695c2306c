using System.Runtime.Intrinsics.X86;

namespace Flux2.Cpu.Gemm.Jit;

/// <summary>
/// The bf16 register-tile microkernel, 12 rows × 32 columns with fp32 accumulation, emitted as machine code at start-up
/// because .NET has no intrinsic for AVX512_BF16's <c>vdpbf16ps</c> (32 multiply-adds per instruction, twice the fp32
/// FMA's). A and B hold bf16 pairs along k (low half = the even k): A [k/2][12] with a stride between pair steps (12 words
/// when packed; attention reads its probabilities in place with a wider one), B packed [k/2][32]; per pair step it loads
/// B's two vectors and issues 24 <c>vdpbf16ps</c>, each row's A pair broadcast once into a register. C is fp32, row-major.
/// <see cref="Available"/> is null where the processor lacks AVX512_BF16 or the OS refuses executable memory; the
/// caller then runs the fp32 kernels.
/// </summary>
internal sealed unsafe class Bf16MicroKernel
{
    public const int Rows = 12;
    public const int Columns = 32;

    private readonly delegate* unmanaged<long, uint*, uint*, float*, long, long, void> _overwrite;
    private readonly delegate* unmanaged<long, uint*, uint*, float*, long, long, void> _accumulate;

    private Bf16MicroKernel(nint overwrite, nint accumulate)
    {
        _overwrite = (delegate* unmanaged<long, uint*, uint*, float*, long, long, void>)overwrite;
        _accumulate = (delegate* unmanaged<long, uint*, uint*, float*, long, long, void>)accumulate;
    }

    /// <summary>Whether the processor implements AVX512_BF16 (CPUID leaf 7, sub-leaf 1, EAX bit 5) with AVX-512 enabled.</summary>
    public static bool ProcessorSupports { get; } = Avx512F.IsSupported && Avx512BW.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>The emitted kernel, or null when it cannot run here.</summary>
    public static Bf16MicroKernel? Available { get; } = Create();

    private static Bf16MicroKernel? Create()
    {
        if (!ProcessorSupports) return null;
        nint overwrite = ExecutableMemory.Create(Emit(accumulate: false));
        nint accumulate = ExecutableMemory.Create(Emit(accumulate: true));
        return overwrite == 0 || accumulate == 0 ? null : new Bf16MicroKernel(overwrite, accumulate);
    }

    /// <summary>C[12, 32] (+)= A·B over <paramref name="kPairs"/> ≥ 1 bf16 pairs; A's pair steps <paramref name="lda"/> words
    /// apart (<see cref="Rows"/> when packed), <paramref name="ldc"/> in floats.</summary>
    public void Run(int kPairs, uint* a, nint lda, uint* b, float* c, nint ldc, bool accumulate)
    {
        if (accumulate) _accumulate(kPairs, a, b, c, (long)ldc * sizeof(float), (long)lda * sizeof(uint));
        else _overwrite(kPairs, a, b, c, (long)ldc * sizeof(float), (long)lda * sizeof(uint));
    }

    /// <summary>The kernel's machine code, System V calling convention: (rdi = pairs, rsi = A, rdx = B, rcx = C, r8 = C's row
    /// stride in bytes, r9 = A's pair step in bytes). zmm0–23 accumulate (row r in zmm 2r, 2r+1), zmm24–25 hold B, zmm26–29
    /// A's broadcast pairs.</summary>
    public static byte[] Emit(bool accumulate)
    {
        var asm = new EvexAssembler();
        // C's 24 lines are fetched while the loop runs (a C tile is touched once per kc slice, so it is rarely cached).
        asm.MoveRegister(EvexAssembler.Gpr.Rax, EvexAssembler.Gpr.Rcx);
        for (int r = 0; r < Rows; r++)
        {
            asm.PrefetchForWrite(EvexAssembler.Gpr.Rax, 0);
            asm.PrefetchForWrite(EvexAssembler.Gpr.Rax, 64);
            asm.AddRegister(EvexAssembler.Gpr.Rax, EvexAssembler.Gpr.R8);
        }
        for (int z = 0; z < 2 * Rows; z++) asm.ZeroZmm(z);
        int loop = asm.Position;
        asm.LoadZmm(24, EvexAssembler.Gpr.Rdx, 0);
        asm.LoadZmm(25, EvexAssembler.Gpr.Rdx, 64);
        for (int r = 0; r < Rows; r++)
        {
            // One broadcast load per row into a register serves both column vectors (a broadcast memory operand
            // would load it twice; measured 90 % of peak in L1 against 98 %).
            int pair = 26 + r % 4;
            asm.BroadcastDword(pair, EvexAssembler.Gpr.Rsi, 4 * r);
            asm.DotBf16(2 * r, 24, pair);
            asm.DotBf16(2 * r + 1, 25, pair);
        }
        asm.AddRegister(EvexAssembler.Gpr.Rsi, EvexAssembler.Gpr.R9);
        asm.AddImmediate(EvexAssembler.Gpr.Rdx, 4 * Columns);
        asm.Decrement(EvexAssembler.Gpr.Rdi);
        asm.JumpIfNotZero(loop);
        for (int r = 0; r < Rows; r++)
        {
            if (accumulate)
            {
                asm.AddZmmMemory(2 * r, EvexAssembler.Gpr.Rcx, 0);
                asm.AddZmmMemory(2 * r + 1, EvexAssembler.Gpr.Rcx, 64);
            }
            asm.StoreZmm(EvexAssembler.Gpr.Rcx, 0, 2 * r);
            asm.StoreZmm(EvexAssembler.Gpr.Rcx, 64, 2 * r + 1);
            asm.AddRegister(EvexAssembler.Gpr.Rcx, EvexAssembler.Gpr.R8);
        }
        asm.VZeroUpper();
        asm.Return();
        return asm.ToArray();
    }
}
