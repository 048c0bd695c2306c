using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;

namespace Flux2.Testing;

/// <summary>
/// A backend that proves the contract on a machine without a device: it runs the CPU kernels, but on memory the models
/// cannot see into (every host access throws), data moves only through upload and download, weights are copied into
/// its own memory by <see cref="LoadLinear"/>, and every op is queued and executed only at the next download,
/// synchronisation or scalar result. A model, pipeline, cache or debug path that reads tensor elements on the host,
/// hands it a tensor another backend allocated, bypasses <see cref="LoadLinear"/> or frees memory an earlier op still
/// needs fails here.
/// </summary>
public sealed unsafe class OpaqueBackend(CpuBackend cpu) : IBackend
{
    public static readonly DeviceRef SimulatedDevice = DeviceRef.Gpu(7);

    private readonly List<Action> _queue = [];
    private readonly HashSet<LinearWeight> _weights = new(ReferenceEqualityComparer.Instance);

    public string Name => "opaque test backend (CPU kernels, deferred)";
    public DeviceRef Device => SimulatedDevice;
    public DType ActivationDType => DType.Float32;
    public ComputePrecision Precision => cpu.Precision;

    /// <summary>Ops called and not yet executed.</summary>
    public int Pending
    {
        get { lock (_queue) return _queue.Count; }
    }

    public Tensor Allocate(DType dtype, params int[] shape) => Tensor.Create(new OpaqueStorage(this, Tensor.BytesFor(dtype, shape)), dtype, shape);

    public void Upload(ReadOnlySpan<byte> source, Tensor destination)
    {
        if (source.Length != destination.ByteLength)
            throw new ArgumentException($"{source.Length} bytes do not fill {destination.DType} {destination.ShapeText}", nameof(source));
        var copy = source.ToArray();
        var host = Host(destination);
        Enqueue(() => copy.CopyTo(new Span<byte>((void*)host.Data, copy.Length)));
    }

    public void Download(Tensor source, Span<byte> destination)
    {
        if (destination.Length != source.ByteLength)
            throw new ArgumentException($"{destination.Length} bytes cannot hold {source.DType} {source.ShapeText}", nameof(destination));
        var host = Host(source);
        Synchronize();
        new ReadOnlySpan<byte>((void*)host.Data, destination.Length).CopyTo(destination);
    }

    public void Synchronize()
    {
        Action[] work;
        lock (_queue)
        {
            work = [.. _queue];
            _queue.Clear();
        }
        foreach (var op in work) op();
    }

    /// <summary>Deferred ops run on the thread that downloads or synchronises, so the CPU kernels see the token there.</summary>
    public IDisposable ObserveCancellation(CancellationToken cancellation) => cpu.ObserveCancellation(cancellation);

    public LinearWeight LoadLinear(LinearWeight stored)
    {
        if (!stored.IsHostAccessible) throw new ArgumentException($"{stored.Name}: a weight must be loaded from its stored host bytes", nameof(stored));
        var data = new OpaqueStorage(this, stored.DataBytes);
        new ReadOnlySpan<byte>((void*)stored.Data, checked((int)stored.DataBytes)).CopyTo(new Span<byte>((void*)data.Address, (int)stored.DataBytes));
        OpaqueStorage? scales = null;
        if (stored.BlockScaleBytes > 0)
        {
            scales = new OpaqueStorage(this, stored.BlockScaleBytes);
            new ReadOnlySpan<byte>((void*)stored.BlockScales, checked((int)stored.BlockScaleBytes)).CopyTo(new Span<byte>((void*)scales.Address, (int)stored.BlockScaleBytes));
        }
        LinearWeight? resident = null;
        resident = stored.Relocated(data.Address, scales?.Address ?? 0, isHostAccessible: false, new ResidentMemory(() =>
        {
            lock (_weights) _weights.Remove(resident!);
            data.Dispose();
            scales?.Dispose();
        }));
        lock (_weights) _weights.Add(resident);
        return resident;
    }

    public void Dispose() => Synchronize();

    internal void Release(OpaqueStorage storage) => Enqueue(storage.Free);

    // The ops: arguments are checked and turned into host views now, the CPU kernel runs at the next synchronisation.

    public void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false)
    {
        var (hx, hw, hy) = (Host(x), Host(weight), Host(y));
        Enqueue(() => cpu.Linear(hx, hw, hy, yColumn, accumulate));
    }

    public void KroneckerLinear(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales = null)
    {
        var (hx, ha, hb, ht, hy) = (Host(x), Host(first), Host(second), Host(scratch), Host(y));
        var hs = outputScales == null ? null : Host(outputScales);
        Enqueue(() => cpu.KroneckerLinear(hx, ha, hb, ht, hy, yColumn, outputStart, outputCount, hs));
    }

    public void ScaleColumns(Tensor x, int xColumn, Tensor scales, Tensor y, int yColumn, bool accumulate = false)
    {
        var (hx, hs, hy) = (Host(x), Host(scales), Host(y));
        Enqueue(() => cpu.ScaleColumns(hx, xColumn, hs, hy, yColumn, accumulate));
    }

    public void ModulatedLayerNorm(Tensor x, Tensor y, Tensor modulation, int shiftColumn, int scaleColumn, float eps)
    {
        var (hx, hy, hm) = (Host(x), Host(y), Host(modulation));
        Enqueue(() => cpu.ModulatedLayerNorm(hx, hy, hm, shiftColumn, scaleColumn, eps));
    }

    public void AddGated(Tensor x, Tensor y, Tensor modulation, int gateColumn)
    {
        var (hx, hy, hm) = (Host(x), Host(y), Host(modulation));
        Enqueue(() => cpu.AddGated(hx, hy, hm, gateColumn));
    }

    public void RmsNorm(Tensor x, Tensor y, Tensor weight, float eps, int column = 0, int width = -1)
    {
        var (hx, hy, hw) = (Host(x), Host(y), Host(weight));
        Enqueue(() => cpu.RmsNorm(hx, hy, hw, eps, column, width));
    }

    public void Silu(Tensor x, Tensor y)
    {
        var (hx, hy) = (Host(x), Host(y));
        Enqueue(() => cpu.Silu(hx, hy));
    }

    public void SwiGlu(Tensor z, int column, int width, Tensor y, int yColumn = 0)
    {
        var (hz, hy) = (Host(z), Host(y));
        Enqueue(() => cpu.SwiGlu(hz, column, width, hy, yColumn));
    }

    public void CopyColumns(Tensor x, int column, int width, Tensor y, int yColumn = 0)
    {
        var (hx, hy) = (Host(x), Host(y));
        Enqueue(() => cpu.CopyColumns(hx, column, width, hy, yColumn));
    }

    public void Copy(Tensor source, Tensor destination)
    {
        var (hs, hd) = (Host(source), Host(destination));
        Enqueue(() => cpu.Copy(hs, hd));
    }

    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        var (hs, hi, hd) = (Host(source), Host(indices), Host(destination));
        Enqueue(() => cpu.GatherRows(hs, hi, hd));
    }

    public void RopeTable(Tensor ids, IReadOnlyList<int> axesDims, double theta, Tensor cos, Tensor sin)
    {
        var (hi, hc, hs) = (Host(ids), Host(cos), Host(sin));
        var axes = axesDims.ToArray();
        Enqueue(() => cpu.RopeTable(hi, axes, theta, hc, hs));
    }

    public void InterleavedRope(Tensor x, int column, int heads, Tensor cos, Tensor sin)
    {
        var (hx, hc, hs) = (Host(x), Host(cos), Host(sin));
        Enqueue(() => cpu.InterleavedRope(hx, column, heads, hc, hs));
    }

    public void TimestepEmbedding(Tensor timesteps, float multiplier, Tensor embedding)
    {
        var (ht, he) = (Host(timesteps), Host(embedding));
        Enqueue(() => cpu.TimestepEmbedding(ht, multiplier, he));
    }

    public void Attention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn,
        int heads, int headDim, float scale)
    {
        var (hq, hk, hv, ho) = (Host(q), Host(k), Host(v), Host(output));
        Enqueue(() => cpu.Attention(hq, qColumn, hk, kColumn, hv, vColumn, ho, outputColumn, heads, headDim, scale));
    }

    public void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y, bool accumulate = false)
    {
        var (hx, hw, hb, hy) = (Host(x), Host(weight), Host(bias), Host(y));
        Enqueue(() => cpu.Conv2d(hx, hw, kernelSize, hb, stride, padding, hy, accumulate));
    }

    public void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y)
    {
        var (hx, hg, hb, hy) = (Host(x), Host(gamma), Host(beta), Host(y));
        Enqueue(() => cpu.GroupNorm(hx, groups, eps, hg, hb, silu, hy));
    }

    public void UpsampleNearest2x(Tensor x, Tensor y)
    {
        var (hx, hy) = (Host(x), Host(y));
        Enqueue(() => cpu.UpsampleNearest2x(hx, hy));
    }

    public void TransposeLastTwo(Tensor x, Tensor y)
    {
        var (hx, hy) = (Host(x), Host(y));
        Enqueue(() => cpu.TransposeLastTwo(hx, hy));
    }

    public void Patchify2x2(Tensor z, Tensor patched)
    {
        var (hz, hp) = (Host(z), Host(patched));
        Enqueue(() => cpu.Patchify2x2(hz, hp));
    }

    public void Unpatchify2x2(Tensor patched, Tensor z)
    {
        var (hp, hz) = (Host(patched), Host(z));
        Enqueue(() => cpu.Unpatchify2x2(hp, hz));
    }

    public void NormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y)
    {
        var (hx, hm, hs, hy) = (Host(x), Host(mean), Host(std), Host(y));
        Enqueue(() => cpu.NormalizeChannels(hx, hm, hs, hy));
    }

    public void DenormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y)
    {
        var (hx, hm, hs, hy) = (Host(x), Host(mean), Host(std), Host(y));
        Enqueue(() => cpu.DenormalizeChannels(hx, hm, hs, hy));
    }

    public void ImageToPixels(Tensor rgb, Tensor pixels)
    {
        var (hr, hp) = (Host(rgb), Host(pixels));
        Enqueue(() => cpu.ImageToPixels(hr, hp));
    }

    public void PixelsToImage(Tensor pixels, Tensor image)
    {
        var (hp, hi) = (Host(pixels), Host(image));
        Enqueue(() => cpu.PixelsToImage(hp, hi));
    }

    public void EulerStep(Tensor latents, Tensor velocity, float dt)
    {
        var (hl, hv) = (Host(latents), Host(velocity));
        Enqueue(() => cpu.EulerStep(hl, hv, dt));
    }

    public void GuidanceCombine(Tensor velocity, Tensor negative, float scale)
    {
        var (hv, hn) = (Host(velocity), Host(negative));
        Enqueue(() => cpu.GuidanceCombine(hv, hn, scale));
    }

    public void TaylorUpdate(Tensor f0, Tensor f1, Tensor f2, Tensor velocity, float divisor, bool secondOrder)
    {
        var (h0, h1, h2, hv) = (Host(f0), Host(f1), Host(f2), Host(velocity));
        Enqueue(() => cpu.TaylorUpdate(h0, h1, h2, hv, divisor, secondOrder));
    }

    public void TaylorExtrapolate(Tensor f0, Tensor f1, Tensor f2, float delta, bool secondOrder, Tensor velocity)
    {
        var (h0, h1, h2, hv) = (Host(f0), Host(f1), Host(f2), Host(velocity));
        Enqueue(() => cpu.TaylorExtrapolate(h0, h1, h2, delta, secondOrder, hv));
    }

    public (double Change, double Previous) ResidualChange(Tensor after, Tensor residual, Tensor previous)
    {
        var (ha, hr, hp) = (Host(after), Host(residual), Host(previous));
        Synchronize();
        return cpu.ResidualChange(ha, hr, hp);
    }

    public void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output)
    {
        var (ht, hi, ho) = (Host(table), Host(ids), Host(output));
        Enqueue(() => cpu.EmbeddingLookup(ht, hi, ho));
    }

    public void RotaryHalf(Tensor x, Tensor cos, Tensor sin)
    {
        var (hx, hc, hs) = (Host(x), Host(cos), Host(sin));
        Enqueue(() => cpu.RotaryHalf(hx, hc, hs));
    }

    public void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows)
    {
        var (hq, hk, hv, hm, ho) = (Host(q), Host(k), Host(v), Host(keyMask), Host(output));
        Enqueue(() => cpu.CausalMaskedAttention(hq, hk, hv, hm, ho, fullyMaskedRows));
    }

    private void Enqueue(Action op)
    {
        lock (_queue) _queue.Add(op);
    }

    /// <summary>The host view the CPU kernels get of one of this backend's tensors; anything else is refused.</summary>
    private Tensor Host(Tensor t)
    {
        if (t.Storage is not OpaqueStorage storage || storage.Owner != this)
            throw new ArgumentException($"tensor {t.DType} {t.ShapeText} on {t.Device} was not allocated by this backend");
        return Tensor.View(new HostWindow(storage.Address, storage.Bytes), t.ByteOffset, t.DType, t.Shape);
    }

    private LinearWeight Host(LinearWeight w)
    {
        lock (_weights)
            if (!_weights.Contains(w)) throw new ArgumentException($"weight {w.Name} was not made resident by this backend's LoadLinear");
        return w.Relocated(w.Data, w.BlockScales, isHostAccessible: true, residentMemory: null);
    }

    private sealed class ResidentMemory(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
