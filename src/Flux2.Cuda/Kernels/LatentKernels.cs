namespace Flux2.Cuda.Kernels;

/// <summary>Layouts and conversions between images, VAE latents and tokens (IBackend.Patchify2x2, Unpatchify2x2,
/// NormalizeChannels, DenormalizeChannels, ImageToPixels, PixelsToImage) with the CPU kernels' arithmetic.</summary>
internal static class LatentKernels
{
    public static KernelFamily Family { get; } = new("latents", Code,
        ["patchify_2x2", "channel_affine", "image_to_pixels", .. KernelFamily.ForActivations("pixels_to_bytes", "pixels_to_unit")]);

    private const string Code = """
        // Between z [planes, height, width] and its patchified form, whose plane k·4 + dy·2 + dx of plane k of z holds
        // z[k, 2y + dy, 2x + dx] at (y, x); patchify copies z → patched, otherwise patched → z.
        extern "C" __global__ void patchify_2x2(float* z, float* patched, i64 planes, int height, int width, int patchify)
        {
            i64 plane = (i64)height * width;
            int h = height / 2, w = width / 2;
            FOR_EACH_INDEX(i, planes * plane)
            {
                i64 p = i / plane;
                int yy = (int)(i % plane / width), xx = (int)(i % width);
                i64 pi = p * plane + ((i64)((yy & 1) * 2 + (xx & 1)) * h + (yy >> 1)) * w + (xx >> 1);
                if (patchify) patched[pi] = z[i];
                else z[i] = patched[pi];
            }
        }

        // y = (x − mean[c]) / std[c] (normalize) or x·std[c] + mean[c] over NCHW planes of planeSize values.
        extern "C" __global__ void channel_affine(const float* x, float* y, i64 planes, int channels, i64 planeSize, const float* mean, const float* std, int normalize)
        {
            FOR_EACH_INDEX(i, planes * planeSize)
            {
                int c = (int)(i / planeSize % channels);
                y[i] = normalize ? (x[i] - mean[c]) / std[c] : __fmul_rn(x[i], std[c]) + mean[c];
            }
        }

        // pixels [B, 3, H, W] = 2·(u8/255) − 1 from interleaved rgb [B, H, W, 3].
        extern "C" __global__ void image_to_pixels(const u8* rgb, float* pixels, int batch, int height, int width)
        {
            i64 plane = (i64)height * width;
            FOR_EACH_INDEX(i, (i64)batch * 3 * plane)
            {
                i64 b = i / (3 * plane), c = i / plane % 3, yx = i % plane;
                pixels[i] = 2.f * ((float)rgb[(b * plane + yx) * 3 + c] / 255.f) - 1.f;
            }
        }

        __device__ __forceinline__ float unit_value(float x) { return fminf(fmaxf(x / 2.f + 0.5f, 0.f), 1.f); }

        // image [B, H, W, 3] = round-half-even(255·clamp(x/2 + 0.5, 0, 1)) from planar pixels [B, 3, H, W].
        template <typename T>
        __device__ void pixels_to_bytes(const T* pixels, u8* image, int batch, int height, int width)
        {
            i64 plane = (i64)height * width;
            FOR_EACH_INDEX(i, (i64)batch * 3 * plane)
            {
                i64 b = i / (3 * plane), c = i / plane % 3, yx = i % plane;
                image[(b * plane + yx) * 3 + c] = (u8)rintf(__fmul_rn(unit_value(to_float(pixels[i])), 255.f));
            }
        }

        // image [B, H, W, 3] = clamp(x/2 + 0.5, 0, 1) in fp32.
        template <typename T>
        __device__ void pixels_to_unit(const T* pixels, float* image, int batch, int height, int width)
        {
            i64 plane = (i64)height * width;
            FOR_EACH_INDEX(i, (i64)batch * 3 * plane)
            {
                i64 b = i / (3 * plane), c = i / plane % 3, yx = i % plane;
                image[(b * plane + yx) * 3 + c] = unit_value(to_float(pixels[i]));
            }
        }

        #define PIXEL_KERNELS(S, T) \
            extern "C" __global__ void pixels_to_bytes_##S(const T* pixels, u8* image, int batch, int height, int width) { pixels_to_bytes<T>(pixels, image, batch, height, width); } \
            extern "C" __global__ void pixels_to_unit_##S(const T* pixels, float* image, int batch, int height, int width) { pixels_to_unit<T>(pixels, image, batch, height, width); }
        PIXEL_KERNELS(f32, float)
        PIXEL_KERNELS(bf16, bf16)
        """;
}
