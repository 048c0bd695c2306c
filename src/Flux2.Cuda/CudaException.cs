using Flux2.Core;

namespace Flux2.Cuda;

/// <summary>A CUDA library call returned an error: the message names the call and the library's name for the code
/// (for NVRTC compilations, also the compiler's log).</summary>
public sealed class CudaException : Flux2Exception
{
    public CudaException(string call, string errorName, int code, string? detail = null)
        : base($"{call} failed: {errorName} ({code}){(string.IsNullOrWhiteSpace(detail) ? "" : ": " + detail)}")
    {
        Call = call;
        ErrorName = errorName;
        Code = code;
    }

    /// <summary>The function that failed, as the library exports it (cuMemAlloc_v2, nvrtcCompileProgram, cublasLtMatmul).</summary>
    public string Call { get; }

    /// <summary>The library's name of the code: CUDA_ERROR_OUT_OF_MEMORY, NVRTC_ERROR_COMPILATION, CUBLAS_STATUS_NOT_SUPPORTED.</summary>
    public string ErrorName { get; }

    public int Code { get; }
}
