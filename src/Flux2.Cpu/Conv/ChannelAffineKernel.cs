using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>Per-channel normalisation of NCHW planes, y = (x − mean[c]) / std[c], or its inverse y = x·std[c] + mean[c]
/// (the latent BatchNorm statistics); one work item per plane.</summary>
public static unsafe class ChannelAffineKernel
{
    public static void Run(ComputePool pool, float* x, float* y, int planes, int channels, long planeSize, float* mean, float* std, bool normalize)
    {
        pool.For(planes, new Work { X = x, Y = y, Channels = channels, PlaneSize = planeSize, Mean = mean, Std = std, Normalize = normalize });
    }

    private struct Work : IParallelWork
    {
        public float* X, Y, Mean, Std;
        public int Channels;
        public long PlaneSize;
        public bool Normalize;

        public readonly void Execute(int plane)
        {
            int c = plane % Channels;
            float mean = Mean[c], std = Std[c];
            float* x = X + plane * PlaneSize, y = Y + plane * PlaneSize;
            if (Normalize)
                for (long i = 0; i < PlaneSize; i++) y[i] = (x[i] - mean) / std;
            else
                for (long i = 0; i < PlaneSize; i++) y[i] = x[i] * std + mean;
        }
    }
}
