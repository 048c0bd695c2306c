using Flux2.Core;

namespace Flux2.Cpu.Gemm;

/// <summary>How one microkernel wants its operands: the register tile's size, the packing of a kc slice of x and of W,
/// and the tile itself. The packed GEMM's loop nest is the same for every format.</summary>
internal unsafe interface IPanelFormat
{
    /// <summary>MR: rows of x per tile.</summary>
    int Rows { get; }

    /// <summary>NR: output columns (weight rows) per tile.</summary>
    int Columns { get; }

    /// <summary>Packed 4-byte words per row of a kc slice: kc for fp32, ⌈kc/2⌉ bf16 pairs.</summary>
    int Depth(int kc);

    /// <summary>x[0 .. mc, 0 .. kc) into strips of <see cref="Rows"/> rows, each [Depth(kc)][Rows]; missing rows are zero.</summary>
    void PackActivations(float* x, int ldx, int mc, int kc, float* dst);

    /// <summary>W[n0 .. n0+nc, k0 .. k0+kc) into strips of <see cref="Columns"/> weight rows, each [Depth(kc)][Columns];
    /// <paramref name="rowBuffers"/> holds Columns rows of kc floats for decoding.</summary>
    void PackWeights(LinearWeight w, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers);

    /// <summary>B[0 .. kc, 0 .. nc) of an fp32 matrix stored by rows of stride <paramref name="ldb"/> (B = Wᵀ) into the same
    /// strips as <see cref="PackWeights"/>; columns past nc are zero.</summary>
    void PackDepthMajor(float* b, long ldb, int nc, int kc, float* dst);

    /// <summary>C[Rows, Columns] (+)= packed A · packed B over a kc slice; C row-major with stride ldc floats.</summary>
    void Tile(int kc, float* a, float* b, float* c, nint ldc, bool accumulate);
}

/// <summary>fp32 panels for a <see cref="GemmKernel"/>: x as it is, W decoded to fp32.</summary>
internal readonly unsafe struct Float32Panels(GemmKernel kernel) : IPanelFormat
{
    public int Rows => kernel.Rows;
    public int Columns => kernel.Columns;
    public int Depth(int kc) => kc;

    public void PackActivations(float* x, int ldx, int mc, int kc, float* dst) => PanelPacker.PackActivations(x, ldx, mc, kc, kernel.Rows, dst);

    public void PackWeights(LinearWeight w, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers) =>
        PanelPacker.PackWeights(w, n0, nc, k0, kc, kernel.Columns, dst, rowBuffers);

    public void PackDepthMajor(float* b, long ldb, int nc, int kc, float* dst) => PanelPacker.PackDepthMajor(b, ldb, nc, kc, kernel.Columns, dst);

    public void Tile(int kc, float* a, float* b, float* c, nint ldc, bool accumulate) =>
        kernel.Run(kc, a, kernel.Rows, b, kernel.Columns, c, ldc, accumulate);
}
