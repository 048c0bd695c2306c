using Flux2.Core;
using Flux2.Cuda.Device;
using Flux2.Cuda.Kernels;
using Flux2.Cuda.Native;
using static Flux2.Cuda.CudaOperands;

namespace Flux2.Cuda;

public sealed unsafe partial class CudaBackend
{
    // The two float64 sums of ResidualChange, zeroed and accumulated on the device.
    private readonly ulong _sums;

    public void EulerStep(Tensor latents, Tensor velocity, float dt)
    {
        Type(latents, DType.Float32, nameof(latents));
        SameTypeAndLength(latents, velocity, nameof(velocity));
        var a = new KernelArguments();
        a.Add(Pointer(latents, nameof(latents)));
        a.Add(Pointer(velocity, nameof(velocity)));
        a.Add(latents.Length);
        a.Add(dt);
        Launch("euler_step", latents.Length, ref a);
    }

    public void GuidanceCombine(Tensor velocity, Tensor negative, float scale)
    {
        Type(velocity, DType.Float32, nameof(velocity));
        SameTypeAndLength(velocity, negative, nameof(negative));
        var a = new KernelArguments();
        a.Add(Pointer(velocity, nameof(velocity)));
        a.Add(Pointer(negative, nameof(negative)));
        a.Add(velocity.Length);
        a.Add(scale);
        Launch("guidance_combine", velocity.Length, ref a);
    }

    public void TaylorUpdate(Tensor f0, Tensor f1, Tensor f2, Tensor velocity, float divisor, bool secondOrder)
    {
        Type(f0, DType.Float32, nameof(f0));
        SameTypeAndLength(f0, f1, nameof(f1));
        SameTypeAndLength(f0, f2, nameof(f2));
        SameTypeAndLength(f0, velocity, nameof(velocity));
        var a = new KernelArguments();
        a.Add(Pointer(f0, nameof(f0)));
        a.Add(Pointer(f1, nameof(f1)));
        a.Add(Pointer(f2, nameof(f2)));
        a.Add(Pointer(velocity, nameof(velocity)));
        a.Add(f0.Length);
        a.Add(divisor);
        a.Add(secondOrder ? 1 : 0);
        Launch("taylor_update", f0.Length, ref a);
    }

    public void TaylorExtrapolate(Tensor f0, Tensor f1, Tensor f2, float delta, bool secondOrder, Tensor velocity)
    {
        Type(f0, DType.Float32, nameof(f0));
        SameTypeAndLength(f0, f1, nameof(f1));
        SameTypeAndLength(f0, f2, nameof(f2));
        SameTypeAndLength(f0, velocity, nameof(velocity));
        var a = new KernelArguments();
        a.Add(Pointer(f0, nameof(f0)));
        a.Add(Pointer(f1, nameof(f1)));
        a.Add(Pointer(f2, nameof(f2)));
        a.Add(f0.Length);
        a.Add(delta);
        a.Add(secondOrder ? 1 : 0);
        a.Add(Pointer(velocity, nameof(velocity)));
        Launch("taylor_extrapolate", f0.Length, ref a);
    }

    /// <summary>The sums are accumulated per block in float64 and added atomically, so their order (and last bits) may
    /// differ from the CPU's index order; the cache compares them with a threshold.</summary>
    public (double Change, double Previous) ResidualChange(Tensor after, Tensor residual, Tensor previous)
    {
        Activation(after, nameof(after));
        SameTypeAndLength(after, residual, nameof(residual));
        SameTypeAndLength(after, previous, nameof(previous));
        ulong afterPointer = Pointer(after, nameof(after)), residualPointer = Pointer(residual, nameof(residual)), previousPointer = Pointer(previous, nameof(previous));
        Begin();
        CudaDriver.Check(CudaDriver.cuMemsetD8Async(_sums, 0, 2 * sizeof(double), _device.Stream), nameof(CudaDriver.cuMemsetD8Async));
        var a = new KernelArguments();
        a.Add(afterPointer);
        a.Add(residualPointer);
        a.Add(previousPointer);
        a.Add(after.Length);
        a.Add(_sums);
        Launch(KernelFamily.ForActivation("residual_change", after.DType), after.Length, ref a);
        double* sums = stackalloc double[2];
        CudaDriver.Check(CudaDriver.cuMemcpyDtoHAsync_v2(sums, _sums, 2 * sizeof(double), _device.Stream), nameof(CudaDriver.cuMemcpyDtoHAsync_v2));
        _device.Synchronize();
        return (sums[0], sums[1]);
    }
}
