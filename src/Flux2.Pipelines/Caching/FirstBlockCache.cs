using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Caching;

/// <summary>
/// First-Block-Cache for one guidance stream (spec §10.1). Every step runs the model up to double block 0 and measures
/// its residual r = img_after − img_before over the noisy image tokens only (reference tokens are conditioning, not
/// what the step changes). When rel = mean(|r − r_prev|) / (mean(|r_prev|) + 1e-9) is below the threshold, the rest of
/// the model is skipped and the previous velocity is reused. r_prev and v_prev follow every step, hits included;
/// both start at zero and the first step always runs the whole model. All state lives on the backend; only the two
/// sums of the measurement cross to the host.
/// </summary>
public sealed class FirstBlockCache : IVelocityCache, IFirstBlockHook
{
    private const double Epsilon = 1e-9;

    private readonly IBackend _backend;
    private readonly double _threshold;
    private readonly int _imageTokens;
    private readonly Tensor _previousVelocity;
    // [B, L_img, D] in the image stream's type, sized at the first step: the stream before block 0, then this step's residual.
    private Tensor? _residual, _previousResidual;
    private bool _hasPrediction;
    private bool _awaitingHook;

    /// <param name="imageTokens">noisy tokens L_img: the leading rows of the image stream that the residual covers</param>
    /// <param name="channels">velocity channels per token</param>
    public FirstBlockCache(IBackend backend, double threshold, int imageTokens, int channels)
    {
        _backend = backend;
        _threshold = threshold;
        _imageTokens = imageTokens;
        _previousVelocity = backend.Allocate(DType.Float32, 1, imageTokens, channels);
    }

    public bool Predict(int step, IVelocitySource model, Tensor velocity)
    {
        _awaitingHook = true;
        bool computed = model.TryPredict(velocity, this);
        if (_awaitingHook) throw new InvalidOperationException("the velocity model ignored the First-Block-Cache hook");
        if (computed)
        {
            _backend.Copy(velocity, _previousVelocity);
            _hasPrediction = true;
            return false;
        }
        _backend.Copy(_previousVelocity, velocity);
        return true;
    }

    void IFirstBlockHook.BeforeFirstBlock(Tensor img)
    {
        if (img.Rank != 3 || img.Shape[1] < _imageTokens)
            throw new ArgumentException($"image stream {img.ShapeText} has fewer than {_imageTokens} rows", nameof(img));
        int batch = img.Shape[0], d = img.Shape[2];
        if (_residual == null || _residual.DType != img.DType || !_residual.Shape.AsSpan().SequenceEqual([batch, _imageTokens, d]))
        {
            _residual?.Dispose();
            _previousResidual?.Dispose();
            _residual = _backend.Allocate(img.DType, batch, _imageTokens, d);
            _previousResidual = _backend.Allocate(img.DType, batch, _imageTokens, d);
        }
        for (int b = 0; b < batch; b++) _backend.Copy(img.SliceRows(b, 0, _imageTokens), _residual.Slice0(b, 1));
    }

    bool IFirstBlockHook.SkipAfterFirstBlock(Tensor img)
    {
        _awaitingHook = false;
        double change = 0, previous = 0;
        for (int b = 0; b < img.Shape[0]; b++)
        {
            var (c, p) = _backend.ResidualChange(img.SliceRows(b, 0, _imageTokens), _residual!.Slice0(b, 1), _previousResidual!.Slice0(b, 1));
            change += c;
            previous += p;
        }
        (_residual, _previousResidual) = (_previousResidual, _residual); // r_prev ← r on every step, hits included
        long k = _residual!.Length;
        double relative = change / k / (previous / k + Epsilon);
        // The zero initial state makes rel huge, but an all-zero residual would give 0: nothing to reuse before a full pass.
        return _hasPrediction && relative < _threshold;
    }

    public void Dispose()
    {
        _previousVelocity.Dispose();
        _residual?.Dispose();
        _previousResidual?.Dispose();
    }
}
