namespace Flux2.Cuda.Kernels;

/// <summary>The timestep / guidance sinusoid (IBackend.TimestepEmbedding) with the CPU's arithmetic step for step: the
/// frequencies from SLEEF's 1-ulp expf in fp32 with FMA (as PyTorch's CPU kernel and our CPU backend), the cosine and
/// sine of the fp32 angle in float64, rounded to fp32.</summary>
internal static class TimestepKernels
{
    public static KernelFamily Family { get; } = new("timestep", Code, KernelFamily.ForActivations("timestep_embedding"));

    private const string Code = """
        __device__ float sleef_expf(float d)
        {
            const float rln2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
            float q = rintf(d * rln2);
            float s = fmaf(q, -0.693145751953125f, d);
            s = fmaf(q, -1.428606765330187045e-06f, s);
            float u = 0.000198527617612853646278381f;
            u = fmaf(u, s, 0.00139304355252534151077271f);
            u = fmaf(u, s, 0.00833336077630519866943359f);
            u = fmaf(u, s, 0.0416664853692054748535156f);
            u = fmaf(u, s, 0.166666671633720397949219f);
            u = fmaf(u, s, 0.5f);
            u = 1.f + fmaf(s * s, u, s);
            if (d < -104.f) return 0.f;
            if (d > 100.f) return __int_as_float(0x7f800000);
            return ldexpf(u, (int)q);
        }

        // embedding[b] = [cos(t'·f_0 .. t'·f_{half−1}) | sin(...)], t' = t[b]·multiplier, f_i = exp(logPeriod·i / half)
        // with logPeriod = −ln(10000) rounded to fp32 by the caller.
        template <typename T>
        __device__ void timestep_embedding(const float* t, float multiplier, float logPeriod, T* embedding, int batch, int channels)
        {
            int half = channels / 2;
            FOR_EACH_INDEX(i, (i64)batch * half)
            {
                int b = (int)(i / half), k = (int)(i % half);
                float scaled = t[b] * multiplier;
                float exponent = logPeriod * (float)k / (float)half;
                float angle = scaled * sleef_expf(exponent);
                T* row = embedding + (i64)b * channels;
                row[k] = from_float<T>((float)cos((double)angle));
                row[half + k] = from_float<T>((float)sin((double)angle));
            }
        }

        #define TIMESTEP_KERNELS(S, T) \
            extern "C" __global__ void timestep_embedding_##S(const float* t, float multiplier, float logPeriod, T* embedding, int batch, int channels) \
            { timestep_embedding<T>(t, multiplier, logPeriod, embedding, batch, channels); }
        TIMESTEP_KERNELS(f32, float)
        TIMESTEP_KERNELS(bf16, bf16)
        """;
}
