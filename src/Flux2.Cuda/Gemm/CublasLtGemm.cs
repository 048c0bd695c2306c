using Flux2.Cuda.Device;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Gemm;

/// <summary>
/// y[rows, N] (+)= x[rows, K]·W[N, K]ᵀ through cuBLASLt, with products summed in fp32 (CUBLAS_COMPUTE_32F: bf16 operands
/// on tensor cores, or fp32 operands without TF32). cuBLASLt is column-major, so the row-major product is computed as
/// yᵀ = W·xᵀ: A = W read as a K×N column-major matrix and transposed (the "TN" form), B = xᵀ (K×rows, leading dimension
/// the row stride of x), C = D = yᵀ (N×rows, leading dimension the row stride of y). A plan (descriptors, layouts and the
/// heuristic's algorithm) is made once per shape, types and operand alignment and reused. FP8 (E4M3) operands take the
/// same "TN" form, which is the one cuBLASLt's FP8 GEMM requires, with their scales. W's rows may be further apart than K
/// (a head's columns of a wider matrix), and a W stored depth-major instead, [K, N] with a row per k (the convolution's
/// patches, attention's values), is A read as an N×K column-major matrix as it is (the "NN" form).
/// </summary>
internal sealed unsafe class CublasLtGemm : IDisposable
{
    private const long WorkspaceBytes = 32L << 20;

    private readonly CudaDevice _device;
    private readonly DeviceMemoryPool _pool;
    private readonly ulong _workspace;
    private readonly Dictionary<GemmShape, GemmPlan> _plans = [];
    private nint _handle;

    public CublasLtGemm(CudaDevice device, DeviceMemoryPool pool)
    {
        _device = device;
        _pool = pool;
        NativeLibraries.Load(CudaLibrary.CublasLt);
        device.MakeCurrent();
        CublasLt.Check(CublasLt.cublasLtCreate(out _handle), nameof(CublasLt.cublasLtCreate));
        _workspace = pool.Rent(WorkspaceBytes);
    }

    /// <summary>The cuBLASLt version number (e.g. 130000 for 13.0.0).</summary>
    public static long Version() => (long)CublasLt.cublasLtGetVersion();

    /// <summary>The operands of one product: device addresses, cudaDataType_t of each, row strides in elements; for FP8 x and
    /// W, the device addresses of the fp32 scale each is multiplied by; W is [N, K], or [K, N] when
    /// <paramref name="WDepthMajor"/>, with rows <paramref name="Ldw"/> elements apart (0: dense, K or N).</summary>
    public readonly record struct Operands(ulong X, int XType, long Ldx, ulong W, int WType, ulong Y, int YType, long Ldy,
        ulong XScale = 0, ulong WScale = 0, long Ldw = 0, bool WDepthMajor = false);

    public void Multiply(in Operands o, int rows, int n, int k, bool accumulate)
    {
        if (rows == 0) return;
        long ldw = o.Ldw != 0 ? o.Ldw : o.WDepthMajor ? n : k;
        var shape = new GemmShape(rows, n, k, o.Ldx, ldw, o.Ldy, o.XType, o.WType, o.YType, Alignment(o.X), Alignment(o.W), Alignment(o.Y),
            o.WDepthMajor);
        GemmPlan? plan;
        lock (_plans)
        {
            if (!_plans.TryGetValue(shape, out plan)) _plans[shape] = plan = GemmPlan.Create(_handle, shape, WorkspaceBytes, o);
        }
        _device.MakeCurrent();
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        // The plan's description is shared by every product of its shape (its values are read when a product is queued):
        // each sets its own scales.
        if (o.XScale != 0 || o.WScale != 0) GemmPlan.SetScales(plan.Description, o);
        var algorithm = plan.Algorithm;
        CublasLt.Check(CublasLt.cublasLtMatmul(_handle, plan.Description, &alpha, o.W, plan.LayoutA, o.X, plan.LayoutB, &beta,
            o.Y, plan.LayoutC, o.Y, plan.LayoutC, algorithm.Algorithm, _workspace, (nuint)WorkspaceBytes, _device.Stream),
            nameof(CublasLt.cublasLtMatmul));
    }

    public void Dispose()
    {
        lock (_plans)
        {
            foreach (var plan in _plans.Values) plan.Dispose();
            _plans.Clear();
        }
        if (_handle != 0) CublasLt.cublasLtDestroy(_handle);
        _handle = 0;
        _pool.Return(_workspace, WorkspaceBytes);
    }

    /// <summary>The largest power of two (at most 256, cuBLASLt's default assumption) dividing an address.</summary>
    internal static int Alignment(ulong address) => address == 0 ? 256 : (int)Math.Min(256, address & (~address + 1));

    /// <summary>What a plan depends on.</summary>
    internal readonly record struct GemmShape(int Rows, int N, int K, long Ldx, long Ldw, long Ldy, int XType, int WType, int YType,
        int XAlignment, int WAlignment, int YAlignment, bool WDepthMajor);

    private sealed class GemmPlan : IDisposable
    {
        public nint Description, LayoutA, LayoutB, LayoutC;
        public CublasLt.HeuristicResult Algorithm;

        /// <param name="first">the product the plan is made for: FP8 scales are set before the heuristic is asked, as
        /// NVIDIA's FP8 sample does</param>
        public static GemmPlan Create(nint handle, GemmShape s, long workspaceBytes, in Operands first)
        {
            var plan = new GemmPlan();
            nint preference = 0;
            try
            {
                CublasLt.Check(CublasLt.cublasLtMatmulDescCreate(out plan.Description, CublasLt.ComputeFloat32, CublasLt.DataFloat32),
                    nameof(CublasLt.cublasLtMatmulDescCreate));
                int transA = s.WDepthMajor ? CublasLt.OperationNone : CublasLt.OperationTranspose, none = CublasLt.OperationNone;
                SetDescription(plan.Description, CublasLt.MatmulDescTransA, &transA);
                SetDescription(plan.Description, CublasLt.MatmulDescTransB, &none);
                if (first.XScale != 0 || first.WScale != 0) SetScales(plan.Description, first);
                plan.LayoutA = s.WDepthMajor ? Layout(s.WType, (ulong)s.N, (ulong)s.K, s.Ldw) : Layout(s.WType, (ulong)s.K, (ulong)s.N, s.Ldw);
                plan.LayoutB = Layout(s.XType, (ulong)s.K, (ulong)s.Rows, s.Ldx);
                plan.LayoutC = Layout(s.YType, (ulong)s.N, (ulong)s.Rows, s.Ldy);

                CublasLt.Check(CublasLt.cublasLtMatmulPreferenceCreate(out preference), nameof(CublasLt.cublasLtMatmulPreferenceCreate));
                ulong workspace = (ulong)workspaceBytes;
                SetPreference(preference, CublasLt.PreferenceMaxWorkspaceBytes, &workspace, sizeof(ulong));
                uint a = (uint)s.WAlignment, b = (uint)s.XAlignment, c = (uint)s.YAlignment;
                SetPreference(preference, CublasLt.PreferenceMinAlignmentA, &a, sizeof(uint));
                SetPreference(preference, CublasLt.PreferenceMinAlignmentB, &b, sizeof(uint));
                SetPreference(preference, CublasLt.PreferenceMinAlignmentC, &c, sizeof(uint));
                SetPreference(preference, CublasLt.PreferenceMinAlignmentD, &c, sizeof(uint));

                CublasLt.HeuristicResult result;
                CublasLt.Check(CublasLt.cublasLtMatmulAlgoGetHeuristic(handle, plan.Description, plan.LayoutA, plan.LayoutB, plan.LayoutC,
                    plan.LayoutC, preference, 1, &result, out int found), nameof(CublasLt.cublasLtMatmulAlgoGetHeuristic));
                if (found == 0)
                    throw new CudaException(nameof(CublasLt.cublasLtMatmulAlgoGetHeuristic), CudaErrorNames.Cublas(15), 15,
                        $"no algorithm for [{s.Rows}, {s.K}]·{(s.WDepthMajor ? $"[{s.K}, {s.N}]" : $"[{s.N}, {s.K}]ᵀ")} with types {s.XType}/{s.WType}/{s.YType}");
                plan.Algorithm = result;
                return plan;
            }
            catch
            {
                plan.Dispose();
                throw;
            }
            finally
            {
                if (preference != 0) CublasLt.cublasLtMatmulPreferenceDestroy(preference);
            }
        }

        public void Dispose()
        {
            if (LayoutA != 0) CublasLt.cublasLtMatrixLayoutDestroy(LayoutA);
            if (LayoutB != 0) CublasLt.cublasLtMatrixLayoutDestroy(LayoutB);
            if (LayoutC != 0) CublasLt.cublasLtMatrixLayoutDestroy(LayoutC);
            if (Description != 0) CublasLt.cublasLtMatmulDescDestroy(Description);
            LayoutA = LayoutB = LayoutC = Description = 0;
        }

        /// <summary>The device addresses of the fp32 scales of A (W) and B (x).</summary>
        public static void SetScales(nint description, in Operands o)
        {
            ulong a = o.WScale, b = o.XScale;
            CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(description, CublasLt.MatmulDescAScalePointer, &a, sizeof(ulong)),
                nameof(CublasLt.cublasLtMatmulDescSetAttribute));
            CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(description, CublasLt.MatmulDescBScalePointer, &b, sizeof(ulong)),
                nameof(CublasLt.cublasLtMatmulDescSetAttribute));
        }

        private static nint Layout(int type, ulong rows, ulong columns, long leadingDimension)
        {
            CublasLt.Check(CublasLt.cublasLtMatrixLayoutCreate(out nint layout, type, rows, columns, leadingDimension),
                nameof(CublasLt.cublasLtMatrixLayoutCreate));
            return layout;
        }

        private static void SetDescription(nint description, int attribute, int* value) =>
            CublasLt.Check(CublasLt.cublasLtMatmulDescSetAttribute(description, attribute, value, sizeof(int)),
                nameof(CublasLt.cublasLtMatmulDescSetAttribute));

        private static void SetPreference(nint preference, int attribute, void* value, int size) =>
            CublasLt.Check(CublasLt.cublasLtMatmulPreferenceSetAttribute(preference, attribute, value, (nuint)size),
                nameof(CublasLt.cublasLtMatmulPreferenceSetAttribute));
    }
}
