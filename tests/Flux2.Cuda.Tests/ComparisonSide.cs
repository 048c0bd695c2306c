using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Numerics;

namespace Flux2.Cuda.Tests;

/// <summary>
/// One side of a comparison: a backend, the activation type its inputs are given in, and the tensors made for one op.
/// The CPU side (the oracle) computes in fp32 on inputs already rounded to bf16 when the GPU side's activations are bf16,
/// so both see the same values. Outputs are filled with NaN before the op, so an element the op fails to write shows.
/// </summary>
public sealed class ComparisonSide(IBackend backend, DType activation, bool roundInputsToBf16) : IDisposable
{
    private readonly List<Tensor> _tensors = [];

    public IBackend Backend => backend;
    public DType Activation => activation;

    /// <summary>An activation input.</summary>
    public Tensor In(float[] values, params int[] shape) =>
        Keep(backend.UploadAs(roundInputsToBf16 ? RoundedToBf16(values) : values, activation, shape));

    /// <summary>A Float32 input (norm weights, tables, latents, sampler state).</summary>
    public Tensor InFloat32(float[] values, params int[] shape) => Keep(backend.Upload<float>(values, shape));

    public Tensor InInt64(long[] values, params int[] shape) => Keep(backend.Upload<long>(values, shape));

    /// <summary>An output of the activation type, poisoned.</summary>
    public Tensor Out(params int[] shape) => Poisoned(activation, shape);

    /// <summary>A Float32 output, poisoned.</summary>
    public Tensor OutFloat32(params int[] shape) => Poisoned(DType.Float32, shape);

    public Tensor Poisoned(DType dtype, params int[] shape)
    {
        var t = Keep(backend.Allocate(dtype, shape));
        var nan = new byte[t.ByteLength];
        // Quiet NaN in every float type's top bytes: 0x7FC0 (bf16/f16 high half), 0x7FC00000 (f32); 0xFF in others.
        for (int i = 0; i < nan.Length; i++) nan[i] = dtype.SizeInBytes() == 1 ? (byte)0xFF : (i % 2 == 0 ? (byte)0xC0 : (byte)0x7F);
        if (dtype == DType.Float32) for (int i = 0; i < nan.Length; i += 4) (nan[i], nan[i + 1], nan[i + 2], nan[i + 3]) = (0, 0, 0xC0, 0x7F);
        backend.Upload(nan, t);
        return t;
    }

    public float[] Read(Tensor t) => backend.DownloadFloat32(t);

    public T[] Read<T>(Tensor t) where T : unmanaged => backend.Download<T>(t);

    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
    }

    /// <summary>Disposes <paramref name="t"/> with this side.</summary>
    public Tensor Keep(Tensor t)
    {
        _tensors.Add(t);
        return t;
    }

    public static float[] RoundedToBf16(float[] values) => Array.ConvertAll(values, v => BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(v)));
}
