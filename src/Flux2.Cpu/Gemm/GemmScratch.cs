using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flux2.Cpu.Gemm;

/// <summary>Per-thread GEMM work buffers: allocated on a thread's first GEMM and grown only when a larger
/// block is needed, so steady-state calls allocate nothing. Pinned and 64-byte aligned for vector loads.</summary>
internal sealed unsafe class GemmScratch
{
    [ThreadStatic] private static GemmScratch? t_current;

    public static GemmScratch Current => t_current ??= new GemmScratch();

    /// <summary>A kc slice of x packed for a whole GEMM, [m/MR][kc][MR] (the calling thread's; the tasks read it).</summary>
    public readonly Buffer Activations = new();
    /// <summary>Packed weight panel, [nc/NR][kc][NR].</summary>
    public readonly Buffer Weights = new();
    /// <summary>Decoded weight rows before they are interleaved into the panel.</summary>
    public readonly Buffer DecodedRows = new();
    /// <summary>x rows converted to bf16 pairs before they are interleaved (the bf16 panels).</summary>
    public readonly Buffer ActivationRows = new();
    /// <summary>A computed second operand's kc x nc block (a convolution's patches) before it is packed.</summary>
    public readonly Buffer ColumnBlock = new();
    /// <summary>One MR x NR tile for ragged edges.</summary>
    public readonly Buffer EdgeTile = new();

    public sealed class Buffer
    {
        private const int Alignment = 64;
        private float[] _array = [];
        private float* _aligned;

        public float* Get(long floats)
        {
            if (_array.Length < floats + Alignment / sizeof(float))
            {
                _array = GC.AllocateUninitializedArray<float>(checked((int)(floats + Alignment / sizeof(float))), pinned: true);
                nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
                _aligned = (float*)((start + Alignment - 1) & ~(nint)(Alignment - 1));
            }
            return _aligned;
        }
    }
}
