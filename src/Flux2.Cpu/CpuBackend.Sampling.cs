using Flux2.Core;
using Flux2.Cpu.Kernels;

namespace Flux2.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void EulerStep(Tensor latents, Tensor velocity, float dt) =>
        SamplerArithmetic.EulerStep(Float32(latents, nameof(latents)), SameLength(latents, velocity, nameof(velocity)), latents.Length, dt);

    public void GuidanceCombine(Tensor velocity, Tensor negative, float scale) =>
        SamplerArithmetic.GuidanceCombine(Float32(velocity, nameof(velocity)), SameLength(velocity, negative, nameof(negative)), velocity.Length, scale);

    public void TaylorUpdate(Tensor f0, Tensor f1, Tensor f2, Tensor velocity, float divisor, bool secondOrder) =>
        SamplerArithmetic.TaylorUpdate(Float32(f0, nameof(f0)), SameLength(f0, f1, nameof(f1)), SameLength(f0, f2, nameof(f2)),
            SameLength(f0, velocity, nameof(velocity)), f0.Length, divisor, secondOrder);

    public void TaylorExtrapolate(Tensor f0, Tensor f1, Tensor f2, float delta, bool secondOrder, Tensor velocity) =>
        SamplerArithmetic.TaylorExtrapolate(Float32(f0, nameof(f0)), SameLength(f0, f1, nameof(f1)), SameLength(f0, f2, nameof(f2)),
            f0.Length, delta, secondOrder, SameLength(f0, velocity, nameof(velocity)));

    public (double Change, double Previous) ResidualChange(Tensor after, Tensor residual, Tensor previous) =>
        SamplerArithmetic.ResidualChange(Float32(after, nameof(after)), SameLength(after, residual, nameof(residual)),
            SameLength(after, previous, nameof(previous)), after.Length);

    private static float* Float32(Tensor t, string name) =>
        t.DType == DType.Float32 ? t.Float32Pointer : throw new ArgumentException($"{name} must be Float32, found {t.DType}", name);

    /// <summary>A Float32 operand with as many elements as <paramref name="like"/>.</summary>
    private static float* SameLength(Tensor like, Tensor t, string name) =>
        t.Length == like.Length ? Float32(t, name) : throw new ArgumentException($"{name} {t.ShapeText} must have the {like.Length} elements of {like.ShapeText}", name);
}
