using System.Runtime.InteropServices;

namespace Flux2.Cuda.Native;

/// <summary>The cuBLASLt functions of our GEMM (libcublasLt.so.13 or .12) and the enum values it sets (cublasLt.h,
/// library_types.h). Every call returns a cublasStatus_t that the caller passes to <see cref="Check"/>.</summary>
internal static unsafe partial class CublasLt
{
    private const string Lib = "flux2-cublaslt";

    // cudaDataType_t
    public const int DataFloat32 = 0;
    public const int DataFloat16 = 2;
    public const int DataBFloat16 = 14;
    public const int DataFloat8E4M3 = 28;

    /// <summary>A cudaDataType_t of ours as a short name (profiles).</summary>
    public static string DataName(int type) => type switch
    {
        DataFloat32 => "f32",
        DataFloat16 => "f16",
        DataBFloat16 => "bf16",
        DataFloat8E4M3 => "e4m3",
        _ => $"type{type}",
    };

    // cublasComputeType_t: CUBLAS_COMPUTE_32F is fp32 arithmetic (no TF32 unless asked for by _FAST_TF32 = 77).
    public const int ComputeFloat32 = 68;

    // cublasOperation_t
    public const int OperationNone = 0;
    public const int OperationTranspose = 1;

    // cublasLtMatmulDescAttributes_t
    public const int MatmulDescTransA = 3;
    public const int MatmulDescTransB = 4;
    // Device pointers to one fp32 scale each that the FP8 operands A and B are multiplied by.
    public const int MatmulDescAScalePointer = 17;
    public const int MatmulDescBScalePointer = 18;

    // cublasLtMatmulPreferenceAttributes_t: the workspace is a uint64, the alignments (default 256) uint32 each.
    public const int PreferenceMaxWorkspaceBytes = 1;
    public const int PreferenceMinAlignmentA = 5;
    public const int PreferenceMinAlignmentB = 6;
    public const int PreferenceMinAlignmentC = 7;
    public const int PreferenceMinAlignmentD = 8;

    /// <summary>cublasLtMatmulHeuristicResult_t: the algorithm (cublasLtMatmulAlgo_t, 8 × uint64), its workspace size,
    /// state, waves count and 4 reserved ints.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct HeuristicResult
    {
        public fixed ulong Algorithm[8];
        public nuint WorkspaceSize;
        public int State;
        public float WavesCount;
        public fixed int Reserved[4];
    }

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> and the cublasStatus_t unless it is CUBLAS_STATUS_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException(call, CudaErrorNames.Cublas(status), status);
    }

    [LibraryImport(Lib)]
    public static partial nuint cublasLtGetVersion();

    [LibraryImport(Lib)]
    public static partial int cublasLtCreate(out nint handle);

    [LibraryImport(Lib)]
    public static partial int cublasLtDestroy(nint handle);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulDescCreate(out nint description, int computeType, int scaleType);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulDescDestroy(nint description);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulDescSetAttribute(nint description, int attribute, void* value, nuint size);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatrixLayoutCreate(out nint layout, int type, ulong rows, ulong columns, long leadingDimension);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulPreferenceCreate(out nint preference);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* value, nuint size);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmulAlgoGetHeuristic(nint handle, nint description, nint layoutA, nint layoutB, nint layoutC,
        nint layoutD, nint preference, int requestedCount, HeuristicResult* results, out int returnedCount);

    [LibraryImport(Lib)]
    public static partial int cublasLtMatmul(nint handle, nint description, void* alpha, ulong a, nint layoutA, ulong b, nint layoutB,
        void* beta, ulong c, nint layoutC, ulong d, nint layoutD, void* algorithm, ulong workspace, nuint workspaceBytes, nint stream);
}
