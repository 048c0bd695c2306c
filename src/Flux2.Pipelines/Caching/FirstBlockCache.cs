using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Caching;

/// <summary>
/// First-Block-Cache for one guidance stream (spec §10.1). Every step runs the model up to double block 0 and measures
/// its residual r = img_after − img_before over the noisy image tokens only (reference tokens are conditioning, not
/// what the step changes). When rel = mean(|r − r_prev|) / (mean(|r_prev|) + 1e-9) is below the threshold, the rest of
/// the model is skipped and the previous velocity is reused. r_prev and v_prev follow every step, hits included;
/// both start at zero and the first step always runs the whole model.
/// </summary>
public sealed class FirstBlockCache : IVelocityCache, IFirstBlockHook
{
    private const double Epsilon = 1e-9;

    private readonly double _threshold;
    private readonly int _imageTokens;
    private readonly float[] _previousVelocity;
    // [B · L_img · D], sized at the first step: the image stream before block 0, then this step's residual.
    private float[] _residual = [];
    private float[] _previousResidual = [];
    private bool _hasPrediction;
    private bool _awaitingHook;

    /// <param name="imageTokens">noisy tokens L_img: the leading rows of the image stream that the residual covers</param>
    /// <param name="velocityLength">values of the stream's velocity (L_img · channels)</param>
    public FirstBlockCache(double threshold, int imageTokens, int velocityLength)
    {
        _threshold = threshold;
        _imageTokens = imageTokens;
        _previousVelocity = new float[velocityLength];
    }

    public bool Predict(int step, in ModelCall call, Span<float> velocity)
    {
        _awaitingHook = true;
        bool computed = call.TryPredict(velocity, this);
        if (_awaitingHook) throw new InvalidOperationException("the velocity model ignored the First-Block-Cache hook");
        if (computed)
        {
            velocity.CopyTo(_previousVelocity);
            _hasPrediction = true;
            return false;
        }
        _previousVelocity.CopyTo(velocity);
        return true;
    }

    void IFirstBlockHook.BeforeFirstBlock(Tensor img)
    {
        if (img.Rank != 3 || img.Shape[1] < _imageTokens)
            throw new ArgumentException($"image stream {img.ShapeText} has fewer than {_imageTokens} rows", nameof(img));
        int noisy = _imageTokens * img.Shape[2], length = checked(img.Shape[0] * noisy);
        if (_residual.Length != length)
        {
            _residual = new float[length];
            _previousResidual = new float[length];
        }
        for (int b = 0; b < img.Shape[0]; b++)
            NoisyRows(img, b).CopyTo(_residual.AsSpan(b * noisy, noisy));
    }

    bool IFirstBlockHook.SkipAfterFirstBlock(Tensor img)
    {
        _awaitingHook = false;
        // Element arithmetic in fp32; the sums run in double so a mean over millions of values does not drift.
        double change = 0, previous = 0;
        int k = 0;
        for (int b = 0; b < img.Shape[0]; b++)
        {
            var after = NoisyRows(img, b);
            for (int i = 0; i < after.Length; i++, k++)
            {
                float r = after[i] - _residual[k];
                _residual[k] = r;
                change += Math.Abs(r - _previousResidual[k]);
                previous += Math.Abs(_previousResidual[k]);
            }
        }
        (_residual, _previousResidual) = (_previousResidual, _residual); // r_prev ← r on every step, hits included
        double relative = change / k / (previous / k + Epsilon);
        // The zero initial state makes rel huge, but an all-zero residual would give 0: nothing to reuse before a full pass.
        return _hasPrediction && relative < _threshold;
    }

    /// <summary>Batch element <paramref name="b"/>'s first L_img rows of an image stream [B, L, D].</summary>
    private ReadOnlySpan<float> NoisyRows(Tensor img, int b)
    {
        int rows = img.Shape[1], d = img.Shape[2];
        return img.AsSpan<float>().Slice(b * rows * d, _imageTokens * d);
    }
}
