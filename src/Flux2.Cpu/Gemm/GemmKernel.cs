using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flux2.Cpu.Gemm;

/// <summary>
/// A register-tile microkernel: C[Rows, Columns] (+)= Σp A[p, :]ᵀ · B[p, :], A as kc steps of Rows values (one x value
/// per row per step, broadcast) lda floats apart and B as kc steps of Columns values (vector loads) ldb floats apart:
/// packed panels have lda = Rows and ldb = Columns; attention reads some operands in place with longer strides.
/// C is row-major with stride ldc; accumulate=false overwrites it.
/// </summary>
public sealed unsafe class GemmKernel
{
    public string Name { get; }
    /// <summary>MR: rows of x per tile.</summary>
    public int Rows { get; }
    /// <summary>NR: output columns (weight rows) per tile.</summary>
    public int Columns { get; }
    /// <summary>Floats per vector the kernel computes with (16 for AVX-512, 8 for AVX2, 1 for the scalar kernel): the
    /// attention's softmax beside it runs at the same width.</summary>
    public int Lanes { get; }
    public bool IsSupported { get; }
    internal delegate*<int, float*, nint, float*, nint, float*, nint, bool, void> Run { get; }

    private GemmKernel(string name, int rows, int columns, int lanes, bool supported, delegate*<int, float*, nint, float*, nint, float*, nint, bool, void> run)
    {
        Name = name;
        Rows = rows;
        Columns = columns;
        Lanes = lanes;
        IsSupported = supported;
        Run = run;
    }

    public static GemmKernel Avx512 { get; } = new("avx512 12x32", MicroKernelAvx512.Rows, MicroKernelAvx512.Columns, 16,
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported, &MicroKernelAvx512.Run);

    public static GemmKernel Avx2 { get; } = new("avx2 6x16", MicroKernelAvx2.Rows, MicroKernelAvx2.Columns, 8,
        Vector256.IsHardwareAccelerated && Fma.IsSupported, &MicroKernelAvx2.Run);

    public static GemmKernel Scalar { get; } = new("scalar 4x8", MicroKernelScalar.Rows, MicroKernelScalar.Columns, 1, true, &MicroKernelScalar.Run);

    public static IReadOnlyList<GemmKernel> All { get; } = [Avx512, Avx2, Scalar];

    /// <summary>The widest kernel this processor runs, chosen once at start-up.</summary>
    public static GemmKernel Best { get; } = All.First(k => k.IsSupported);

    public override string ToString() => Name;
}
