using Flux2.Core;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Tests;

/// <summary>Return codes become typed errors that name the call and the header's name of the code.</summary>
public sealed class ErrorMappingTests
{
    [Theory]
    [InlineData(2, "CUDA_ERROR_OUT_OF_MEMORY")]
    [InlineData(100, "CUDA_ERROR_NO_DEVICE")]
    [InlineData(209, "CUDA_ERROR_NO_BINARY_FOR_GPU")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData(12345, "unknown CUresult")]
    public void DriverCodes(int code, string name)
    {
        var e = Assert.Throws<CudaException>(() => CudaDriver.Check(code, "cuMemAlloc_v2"));
        Assert.Equal($"cuMemAlloc_v2 failed: {name} ({code})", e.Message);
        Assert.Equal(("cuMemAlloc_v2", name, code), (e.Call, e.ErrorName, e.Code));
        Assert.IsAssignableFrom<Flux2Exception>(e);
    }

    [Fact]
    public void SuccessIsNotAnError()
    {
        CudaDriver.Check(0, "cuInit");
        Nvrtc.Check(0, "nvrtcCompileProgram");
        CublasLt.Check(0, "cublasLtMatmul");
    }

    [Fact]
    public void NvrtcCodesCarryTheLog()
    {
        var e = Assert.Throws<CudaException>(() => Nvrtc.Check(6, "nvrtcCompileProgram (norms.cu)", "norms.cu(3): error: identifier \"x\" is undefined"));
        Assert.Equal("nvrtcCompileProgram (norms.cu) failed: NVRTC_ERROR_COMPILATION (6): norms.cu(3): error: identifier \"x\" is undefined", e.Message);
    }

    [Theory]
    [InlineData(15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    [InlineData(13, "CUBLAS_STATUS_EXECUTION_FAILED")]
    [InlineData(99, "unknown cublasStatus_t")]
    public void CublasCodes(int code, string name)
    {
        var e = Assert.Throws<CudaException>(() => CublasLt.Check(code, "cublasLtMatmul"));
        Assert.Equal($"cublasLtMatmul failed: {name} ({code})", e.Message);
    }

    [Fact]
    public void AnOpNotOnTheGpuNamesItself()
    {
        var e = new CudaUnsupportedOpException("Conv2d");
        Assert.Equal("the CUDA backend does not run Conv2d yet; run this model with --device cpu", e.Message);
        Assert.IsAssignableFrom<Flux2Exception>(e);
    }
}
