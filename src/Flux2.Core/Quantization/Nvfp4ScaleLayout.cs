namespace Flux2.Core.Quantization;

/// <summary>
/// Where NVFP4 block scales live (spec §5.4). A scale matrix S [rows, blocks] (blocks = K/16) is stored either
/// plain row-major or in the cuBLAS/TCGEN5 "128x4 blocked" layout: the row-major flattening of
/// (rows/128, blocks/4, 32, 4, 4) whose element [i0, i1, i2, i3, i4] is S[i0·128 + i3·32 + i2, i1·4 + i4].
/// The swizzled layout is used exactly when rows % 128 == 0 and blocks % 4 == 0.
/// </summary>
public static class Nvfp4ScaleLayout
{
    public const int TileRows = 128;
    public const int TileBlocks = 4;
    private const int TileBytes = TileRows * TileBlocks;

    public static bool IsSwizzleable(int rows, int blocks) => rows % TileRows == 0 && blocks % TileBlocks == 0;

    /// <summary>Byte offset of logical scale (n, kb) in a swizzled matrix with <paramref name="storedBlocks"/> (a multiple of 4) columns.</summary>
    public static long SwizzledOffset(int n, int kb, int storedBlocks) => RowOffset(n, storedBlocks, true) + BlockOffset(kb, true);

    /// <summary>Byte offset of logical scale (n, kb) in either stored layout.</summary>
    public static long Offset(int n, int kb, int storedBlocks, bool swizzled) => RowOffset(n, storedBlocks, swizzled) + BlockOffset(kb, swizzled);

    /// <summary>The part of <see cref="Offset"/> that depends on the row only (hoisted out of loops over kb).</summary>
    public static long RowOffset(int n, int storedBlocks, bool swizzled) => swizzled
        ? (long)(n / TileRows) * (storedBlocks / TileBlocks) * TileBytes + (n % 32) * 16 + (n % TileRows / 32) * 4
        : (long)n * storedBlocks;

    /// <summary>The part of <see cref="Offset"/> that depends on the block column only.</summary>
    public static int BlockOffset(int kb, bool swizzled) => swizzled ? kb / TileBlocks * TileBytes + kb % TileBlocks : kb;

    /// <summary>Row-major [rows, blocks] → swizzled bytes.</summary>
    public static byte[] Swizzle(ReadOnlySpan<byte> logical, int rows, int blocks)
    {
        CheckShape(logical.Length, rows, blocks);
        var stored = new byte[logical.Length];
        for (int n = 0; n < rows; n++)
            for (int kb = 0; kb < blocks; kb++)
                stored[SwizzledOffset(n, kb, blocks)] = logical[n * blocks + kb];
        return stored;
    }

    /// <summary>Swizzled bytes → row-major [rows, blocks] (the de-interleave of spec §5.4).</summary>
    public static byte[] Deswizzle(ReadOnlySpan<byte> stored, int rows, int blocks)
    {
        CheckShape(stored.Length, rows, blocks);
        var logical = new byte[stored.Length];
        for (int n = 0; n < rows; n++)
            for (int kb = 0; kb < blocks; kb++)
                logical[n * blocks + kb] = stored[(int)SwizzledOffset(n, kb, blocks)];
        return logical;
    }

    private static void CheckShape(int length, int rows, int blocks)
    {
        if (!IsSwizzleable(rows, blocks))
            throw new ArgumentException($"a [{rows}, {blocks}] scale matrix has no swizzled layout (needs rows % 128 == 0 and blocks % 4 == 0)");
        if (length != rows * blocks) throw new ArgumentException($"expected {rows * blocks} scale bytes, got {length}");
    }
}
