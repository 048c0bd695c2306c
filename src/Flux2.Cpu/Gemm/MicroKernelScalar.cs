namespace Flux2.Cpu.Gemm;

/// <summary>Portable microkernel on the same packed layout, for processors without AVX2/AVX-512.</summary>
internal static unsafe class MicroKernelScalar
{
    public const int Rows = 4;
    public const int Columns = 8;

    public static void Run(int kc, float* a, nint lda, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        float* acc = stackalloc float[Rows * Columns];
        new Span<float>(acc, Rows * Columns).Clear();
        for (int p = 0; p < kc; p++, a += lda, b += ldb)
        {
            for (int i = 0; i < Rows; i++)
            {
                float ai = a[i];
                float* ci = acc + i * Columns;
                for (int j = 0; j < Columns; j++) ci[j] += ai * b[j];
            }
        }
        for (int i = 0; i < Rows; i++)
        {
            float* row = c + i * ldc;
            for (int j = 0; j < Columns; j++) row[j] = accumulate ? row[j] + acc[i * Columns + j] : acc[i * Columns + j];
        }
    }
}
