namespace Flux2.Cuda.Kernels;

/// <summary>
/// The VAE's image ops on NCHW tensors (IBackend.Conv2d, GroupNorm, UpsampleNearest2x, TransposeLastTwo) with the CPU
/// kernels' arithmetic in fp32: the convolution's im2col gather and bias (its product runs in cuBLASLt), GroupNorm's two
/// passes (sums of a chunk of a group, then the normalisation), nearest ×2 upsampling and a tiled transpose.
/// </summary>
internal static class ConvKernels
{
    /// <summary>Values of one group each GroupNorm block sums or normalises.</summary>
    public const int GroupChunk = 8192;

    public static KernelFamily Family { get; } = new("conv", Code,
    [
        // im2col_S_D: x of type S, patches of type D.
        .. KernelFamily.ForActivations([.. KernelFamily.ForActivations("im2col")]),
        .. KernelFamily.ForActivations("conv_bias", "group_norm_sums", "group_norm_apply", "upsample_nearest_2x", "transpose_last_two"),
    ]);

    private const string Code = """
        // col[(ci·k + ky)·k + kx, p] (row stride ldc) = x[ci, oy·stride + ky − top, ox·stride + kx − left], zero outside
        // the image, for the output pixels first + p = oy·outWidth + ox with p < count: the patches of one image
        // [channels, height, width], one row per weight element. Consecutive threads take consecutive pixels, so a warp
        // reads an image row and writes a col row. The host keeps ldc·patch below 2³¹, so in-chunk indices are 32-bit;
        // offsets into x are 64-bit.
        template <typename S, typename D>
        __device__ void im2col(const S* x, int height, int width, int kernel, int stride, int top, int left, int outWidth,
            int first, int count, int patch, D* col, int ldc)
        {
            int window = kernel * kernel;
            FOR_EACH_INDEX(i, (i64)count * patch)
            {
                int j = (int)i, e = j / count, p = j - e * count;
                int ci = e / window, r = e - ci * window, ky = r / kernel, kx = r - ky * kernel;
                int pixel = first + p, oy = pixel / outWidth, ox = pixel - oy * outWidth;
                int iy = oy * stride + ky - top, ix = ox * stride + kx - left;
                bool inside = iy >= 0 && iy < height && ix >= 0 && ix < width;
                col[e * ldc + p] = from_float<D>(inside ? to_float(x[((i64)ci * height + iy) * width + ix]) : 0.f);
            }
        }

        #define IM2COL_KERNEL(SN, S, DN, D) \
            extern "C" __global__ void im2col_##SN##_##DN(const S* x, int height, int width, int kernel, int stride, int top, int left, \
                int outWidth, int first, int count, int patch, D* col, int ldc) \
            { im2col<S, D>(x, height, width, kernel, stride, top, left, outWidth, first, count, patch, col, ldc); }
        IM2COL_KERNEL(f32, float, f32, float)
        IM2COL_KERNEL(f32, float, bf16, bf16)
        IM2COL_KERNEL(bf16, bf16, f32, float)
        IM2COL_KERNEL(bf16, bf16, bf16, bf16)

        // sum[co, c] = bias[co] (+ y[co, c] when accumulate) for co < rows, c < width: the fp32 values a convolution's
        // product is then accumulated onto. y (row stride ldy) and sum (row stride lds) point at the chunk's first column
        // and may be the same memory.
        template <typename T>
        __device__ void conv_bias(const T* y, i64 ldy, float* sum, i64 lds, int rows, int width, const float* bias, int accumulate)
        {
            FOR_EACH_INDEX(i, (i64)rows * width)
            {
                i64 r = i / width, c = i % width;
                sum[r * lds + c] = accumulate ? to_float(y[r * ldy + c]) + bias[r] : bias[r];
            }
        }

        // The range [begin, end) of group g's values that block `blockIdx.x` takes: chunks chunks of chunkLength per group.
        __device__ __forceinline__ void group_chunk(i64 groupLength, int chunks, int chunkLength, i64* g, i64* begin, i64* end)
        {
            *g = blockIdx.x / chunks;
            *begin = (i64)(blockIdx.x % chunks) * chunkLength;
            *end = *begin + chunkLength < groupLength ? *begin + chunkLength : groupLength;
        }

        // sums[2g] += Σ x, sums[2g + 1] += Σ x² over this block's chunk of group g (a group is one contiguous run of
        // groupLength values of x). Summed in double, so E[x²] − E[x]² keeps the digits a variance needs.
        template <typename T>
        __device__ void group_norm_sums(const T* x, i64 groupLength, int chunks, int chunkLength, double* sums)
        {
            i64 g, begin, end;
            group_chunk(groupLength, chunks, chunkLength, &g, &begin, &end);
            const T* xg = x + g * groupLength;
            double s = 0.0, q = 0.0;
            for (i64 i = begin + threadIdx.x; i < end; i += blockDim.x)
            {
                double v = to_float(xg[i]);
                s += v;
                q += v * v;
            }
            block_add_pair(s, q, sums + 2 * g);
        }

        // y = (x − mean)·(rstd·gamma[c]) + beta[c], then SiLU when silu, over this block's chunk of group g, where
        // mean and rstd = 1/sqrt(biased variance + eps) come from the group's sums and are rounded to fp32 as the CPU
        // kernel rounds them. Group g is channels [g % groups · channelsPerGroup, ...) of batch element g / groups.
        template <typename T>
        __device__ void group_norm_apply(const T* x, T* y, const double* sums, i64 groupLength, int chunks, int chunkLength,
            int plane, int channelsPerGroup, int groups, const float* gamma, const float* beta, float eps, int silu)
        {
            __shared__ float stats[2];
            i64 g, begin, end;
            group_chunk(groupLength, chunks, chunkLength, &g, &begin, &end);
            if (threadIdx.x == 0)
            {
                double mean = sums[2 * g] / groupLength;
                double variance = fmax(sums[2 * g + 1] / groupLength - mean * mean, 0.0);
                stats[0] = (float)mean;
                stats[1] = (float)(1.0 / sqrt(variance + (double)eps));
            }
            __syncthreads();
            float mean = stats[0], rstd = stats[1];
            int channel0 = (int)(g % groups) * channelsPerGroup;
            i64 offset = g * groupLength;
            for (i64 i = begin + threadIdx.x; i < end; i += blockDim.x)
            {
                int c = channel0 + (int)(i / plane);
                float v = (to_float(x[offset + i]) - mean) * (rstd * gamma[c]) + beta[c];
                y[offset + i] = from_float<T>(silu ? v / (1.f + expf(-v)) : v);
            }
        }

        // y[p, 2i + di, 2j + dj] = x[p, i, j] for planes p of height × width.
        template <typename T>
        __device__ void upsample_nearest_2x(const T* x, T* y, i64 planes, int height, int width)
        {
            i64 outPlane = 4 * (i64)height * width;
            int outWidth = 2 * width;
            FOR_EACH_INDEX(i, planes * outPlane)
            {
                i64 p = i / outPlane, r = i % outPlane;
                int oy = (int)(r / outWidth), ox = (int)(r % outWidth);
                y[i] = x[(p * height + (oy >> 1)) * width + (ox >> 1)];
            }
        }

        // y[b, c, r] = x[b, r, c] for x [batch, rows, cols]: block x moves the 32×32 tile (x / tilesC, x % tilesC) of
        // every batch element from blockIdx.y on through shared memory, so both the reads and the writes run along rows. 256 threads: 8 rows of 32 lanes, 4 tile rows each. 33 columns: a warp reading a tile
        // column hits distinct banks.
        template <typename T>
        __device__ void transpose_last_two(const T* x, T* y, int batch, int rows, int cols)
        {
            __shared__ T tile[32][33];
            int tilesC = (cols + 31) >> 5;
            int r0 = (int)(blockIdx.x / tilesC) * 32, c0 = (int)(blockIdx.x % tilesC) * 32;
            int lane = threadIdx.x & 31, row = threadIdx.x >> 5;
            for (i64 b = blockIdx.y; b < batch; b += gridDim.y)
            {
                const T* xb = x + b * rows * cols;
                T* yb = y + b * rows * cols;
                for (int j = row; j < 32; j += 8)
                    if (r0 + j < rows && c0 + lane < cols) tile[j][lane] = xb[(i64)(r0 + j) * cols + c0 + lane];
                __syncthreads();
                for (int j = row; j < 32; j += 8)
                    if (c0 + j < cols && r0 + lane < rows) yb[(i64)(c0 + j) * rows + r0 + lane] = tile[lane][j];
                __syncthreads();  // the tile is read out before the next batch element overwrites it
            }
        }

        #define CONV_KERNELS(S, T) \
            extern "C" __global__ void conv_bias_##S(const T* y, i64 ldy, float* sum, i64 lds, int rows, int width, const float* bias, int accumulate) \
            { conv_bias<T>(y, ldy, sum, lds, rows, width, bias, accumulate); } \
            extern "C" __global__ void group_norm_sums_##S(const T* x, i64 groupLength, int chunks, int chunkLength, double* sums) \
            { group_norm_sums<T>(x, groupLength, chunks, chunkLength, sums); } \
            extern "C" __global__ void group_norm_apply_##S(const T* x, T* y, const double* sums, i64 groupLength, int chunks, int chunkLength, \
                int plane, int channelsPerGroup, int groups, const float* gamma, const float* beta, float eps, int silu) \
            { group_norm_apply<T>(x, y, sums, groupLength, chunks, chunkLength, plane, channelsPerGroup, groups, gamma, beta, eps, silu); } \
            extern "C" __global__ void upsample_nearest_2x_##S(const T* x, T* y, i64 planes, int height, int width) \
            { upsample_nearest_2x<T>(x, y, planes, height, width); } \
            extern "C" __global__ void transpose_last_two_##S(const T* x, T* y, int batch, int rows, int cols) \
            { transpose_last_two<T>(x, y, batch, rows, cols); }
        CONV_KERNELS(f32, float)
        CONV_KERNELS(bf16, bf16)
        """;
}
