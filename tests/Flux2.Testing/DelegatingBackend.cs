using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Testing;

/// <summary>A backend that forwards every call to another one; tests override the calls they want to alter or observe.</summary>
public class DelegatingBackend(IBackend inner) : IBackend
{
    protected IBackend Inner { get; } = inner;

    public virtual string Name => Inner.Name;
    public virtual DeviceRef Device => Inner.Device;
    public virtual DType ActivationDType => Inner.ActivationDType;
    public virtual ComputePrecision Precision => Inner.Precision;
    public virtual Tensor Allocate(DType dtype, params int[] shape) => Inner.Allocate(dtype, shape);
    public virtual void Upload(ReadOnlySpan<byte> source, Tensor destination) => Inner.Upload(source, destination);
    public virtual void Download(Tensor source, Span<byte> destination) => Inner.Download(source, destination);
    public virtual void Synchronize() => Inner.Synchronize();
    public virtual IDisposable ObserveCancellation(CancellationToken cancellation) => Inner.ObserveCancellation(cancellation);
    public virtual LinearWeight LoadLinear(LinearWeight stored) => Inner.LoadLinear(stored);
    public virtual void Dispose() => Inner.Dispose();

    public virtual void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false) => Inner.Linear(x, weight, y, yColumn, accumulate);
    public virtual void KroneckerLinear(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales = null) =>
        Inner.KroneckerLinear(x, first, second, scratch, y, yColumn, outputStart, outputCount, outputScales);
    public virtual void ScaleColumns(Tensor x, int xColumn, Tensor scales, Tensor y, int yColumn, bool accumulate = false) =>
        Inner.ScaleColumns(x, xColumn, scales, y, yColumn, accumulate);
    public virtual void ModulatedLayerNorm(Tensor x, Tensor y, Tensor modulation, int shiftColumn, int scaleColumn, float eps) => Inner.ModulatedLayerNorm(x, y, modulation, shiftColumn, scaleColumn, eps);
    public virtual void AddGated(Tensor x, Tensor y, Tensor modulation, int gateColumn) => Inner.AddGated(x, y, modulation, gateColumn);
    public virtual void RmsNorm(Tensor x, Tensor y, Tensor weight, float eps, int column = 0, int width = -1) => Inner.RmsNorm(x, y, weight, eps, column, width);
    public virtual void Silu(Tensor x, Tensor y) => Inner.Silu(x, y);
    public virtual void SwiGlu(Tensor z, int column, int width, Tensor y, int yColumn = 0) => Inner.SwiGlu(z, column, width, y, yColumn);
    public virtual void CopyColumns(Tensor x, int column, int width, Tensor y, int yColumn = 0) => Inner.CopyColumns(x, column, width, y, yColumn);
    public virtual void Copy(Tensor source, Tensor destination) => Inner.Copy(source, destination);
    public virtual void GatherRows(Tensor source, Tensor indices, Tensor destination) => Inner.GatherRows(source, indices, destination);
    public virtual void RopeTable(Tensor ids, IReadOnlyList<int> axesDims, double theta, Tensor cos, Tensor sin) => Inner.RopeTable(ids, axesDims, theta, cos, sin);
    public virtual void InterleavedRope(Tensor x, int column, int heads, Tensor cos, Tensor sin) => Inner.InterleavedRope(x, column, heads, cos, sin);
    public virtual void TimestepEmbedding(Tensor timesteps, float multiplier, Tensor embedding) => Inner.TimestepEmbedding(timesteps, multiplier, embedding);
    public virtual void Attention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn, int heads, int headDim, float scale) => Inner.Attention(q, qColumn, k, kColumn, v, vColumn, output, outputColumn, heads, headDim, scale);
    public virtual void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y, bool accumulate = false) => Inner.Conv2d(x, weight, kernelSize, bias, stride, padding, y, accumulate);
    public virtual void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y) => Inner.GroupNorm(x, groups, eps, gamma, beta, silu, y);
    public virtual void UpsampleNearest2x(Tensor x, Tensor y) => Inner.UpsampleNearest2x(x, y);
    public virtual void TransposeLastTwo(Tensor x, Tensor y) => Inner.TransposeLastTwo(x, y);
    public virtual void Patchify2x2(Tensor z, Tensor patched) => Inner.Patchify2x2(z, patched);
    public virtual void Unpatchify2x2(Tensor patched, Tensor z) => Inner.Unpatchify2x2(patched, z);
    public virtual void NormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => Inner.NormalizeChannels(x, mean, std, y);
    public virtual void DenormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => Inner.DenormalizeChannels(x, mean, std, y);
    public virtual void ImageToPixels(Tensor rgb, Tensor pixels) => Inner.ImageToPixels(rgb, pixels);
    public virtual void PixelsToImage(Tensor pixels, Tensor image) => Inner.PixelsToImage(pixels, image);
    public virtual void EulerStep(Tensor latents, Tensor velocity, float dt) => Inner.EulerStep(latents, velocity, dt);
    public virtual void GuidanceCombine(Tensor velocity, Tensor negative, float scale) => Inner.GuidanceCombine(velocity, negative, scale);
    public virtual void TaylorUpdate(Tensor f0, Tensor f1, Tensor f2, Tensor velocity, float divisor, bool secondOrder) => Inner.TaylorUpdate(f0, f1, f2, velocity, divisor, secondOrder);
    public virtual void TaylorExtrapolate(Tensor f0, Tensor f1, Tensor f2, float delta, bool secondOrder, Tensor velocity) => Inner.TaylorExtrapolate(f0, f1, f2, delta, secondOrder, velocity);
    public virtual (double Change, double Previous) ResidualChange(Tensor after, Tensor residual, Tensor previous) => Inner.ResidualChange(after, residual, previous);
    public virtual void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output) => Inner.EmbeddingLookup(table, ids, output);
    public virtual void RotaryHalf(Tensor x, Tensor cos, Tensor sin) => Inner.RotaryHalf(x, cos, sin);
    public virtual void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows) => Inner.CausalMaskedAttention(q, k, v, keyMask, output, fullyMaskedRows);
}
