namespace Flux2.Cuda.Kernels;

/// <summary>Moves of elements of any type by their size (IBackend.CopyColumns, GatherRows) and conversions between the
/// float types (the GEMM's operands and results).</summary>
internal static class CopyKernels
{
    /// <summary>Element sizes the byte moves exist for.</summary>
    public static readonly int[] ElementSizes = [1, 2, 4, 8];

    /// <summary>The conversions, as (source, destination) suffixes of <c>convert_S_D</c>.</summary>
    public static readonly (string From, string To)[] Conversions = [("f32", "bf16"), ("bf16", "f32"), ("f16", "f32")];

    public static KernelFamily Family { get; } = new("copies", Code,
    [
        .. ElementSizes.SelectMany(s => new[] { $"copy_columns_{s}", $"gather_rows_{s}" }),
        .. Conversions.Select(c => $"convert_{c.From}_{c.To}"),
    ]);

    private const string Code = """
        // y[r, c] = x[r, c] for c < width; x and y point at their first column (row strides ldx, ldy).
        template <typename E>
        __device__ void copy_columns(const E* x, int ldx, E* y, int ldy, int rows, int width)
        {
            FOR_EACH_INDEX(i, (i64)rows * width)
            {
                i64 r = i / width, c = i % width;
                y[r * ldy + c] = x[r * ldx + c];
            }
        }

        // destination[r, :] = source[index[r], :] with rows of width elements. An index outside [0, sourceRows) gives a zero
        // row: the device cannot raise an error, and the callers check their indices on the host.
        template <typename E>
        __device__ void gather_rows(const E* source, i64 sourceRows, const i64* index, E* destination, int count, int width)
        {
            FOR_EACH_INDEX(i, (i64)count * width)
            {
                i64 s = index[i / width];
                destination[i] = s >= 0 && s < sourceRows ? source[s * width + i % width] : E(0);
            }
        }

        #define COPY_KERNELS(N, E) \
            extern "C" __global__ void copy_columns_##N(const E* x, int ldx, E* y, int ldy, int rows, int width) { copy_columns<E>(x, ldx, y, ldy, rows, width); } \
            extern "C" __global__ void gather_rows_##N(const E* source, i64 sourceRows, const i64* index, E* destination, int count, int width) \
            { gather_rows<E>(source, sourceRows, index, destination, count, width); }
        COPY_KERNELS(1, u8)
        COPY_KERNELS(2, u16)
        COPY_KERNELS(4, u32)
        COPY_KERNELS(8, u64)

        // y[r, c] = x[r, c] converted (fp32 → bf16 rounds to nearest even; widening is exact).
        template <typename S, typename D>
        __device__ void convert(const S* x, int ldx, D* y, int ldy, int rows, int width)
        {
            FOR_EACH_INDEX(i, (i64)rows * width)
            {
                i64 r = i / width, c = i % width;
                y[r * ldy + c] = from_float<D>(to_float(x[r * ldx + c]));
            }
        }

        #define CONVERT_KERNEL(SN, S, DN, D) \
            extern "C" __global__ void convert_##SN##_##DN(const S* x, int ldx, D* y, int ldy, int rows, int width) { convert<S, D>(x, ldx, y, ldy, rows, width); }
        CONVERT_KERNEL(f32, float, bf16, bf16)
        CONVERT_KERNEL(bf16, bf16, f32, float)
        CONVERT_KERNEL(f16, f16, f32, float)
        """;
}
