using System.Runtime.InteropServices;

namespace Flux2.Bench;

/// <summary>OpenBLAS cblas_sgemm through P/Invoke, used only as the benchmark's yardstick. Loaded at run time;
/// absent if the system has no libopenblas.so.0.</summary>
internal sealed unsafe class OpenBlasSgemm
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;
    private readonly delegate* unmanaged<byte*> _coreName;

    private OpenBlasSgemm(nint library)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemm");
        _setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(library, "openblas_set_num_threads");
        _coreName = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(library, "openblas_get_corename");
    }

    public static OpenBlasSgemm? TryLoad() =>
        NativeLibrary.TryLoad("libopenblas.so.0", out nint library) ? new OpenBlasSgemm(library) : null;

    /// <summary>The kernel family OpenBLAS picked for this processor (e.g. SkylakeX, Haswell, Zen).</summary>
    public string CoreName => Marshal.PtrToStringAnsi((nint)_coreName()) ?? "?";

    public void SetThreads(int threads) => _setThreads(threads);

    /// <summary>y[m, n] = x[m, k] · w[n, k]ᵀ, all row-major and dense.</summary>
    public void Multiply(float* x, int m, int k, float* w, int n, float* y) =>
        _sgemm(RowMajor, NoTrans, Trans, m, n, k, 1f, x, k, w, k, 0f, y, n);
}
