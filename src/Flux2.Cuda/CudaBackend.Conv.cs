using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Gemm;
using Flux2.Cuda.Kernels;
using Flux2.Cuda.Native;
using static Flux2.Cuda.CudaOperands;

namespace Flux2.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>
    /// im2col + cuBLASLt, per image and per chunk of output pixels: the chunk's patches col [Cin·k·k, pixels] are gathered
    /// (one row per input channel and kernel offset, so that a warp reads consecutive pixels of an image row and writes
    /// consecutive pixels of col), and y[Cout, pixels] = W[Cout, Cin·k·k]·col is Linear's product with x ← W and the
    /// weight ← col, depth-major, written into the chunk's columns of y viewed as [Cout, Ho·Wo]. The bias (plus y, when
    /// accumulating) is written first and the product accumulated onto it. bf16 weights in bf16 precision multiply bf16 patches on tensor cores; otherwise patches and
    /// weights are fp32 and the product exact. The sums are fp32: a bf16 y is summed in an fp32 chunk and rounded once.
    /// </summary>
    public void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y,
        bool accumulate = false)
    {
        var g = CudaOperands.Conv2d(x, weight, kernelSize, bias, stride, padding, y);
        ulong w = WeightPointer(weight), xp = Pointer(x, nameof(x)), yp = Pointer(y, nameof(y)), bp = Pointer(bias, nameof(bias));
        int batch = x.Shape[0], patch = g.PatchLength, pixels = g.OutPlane, cout = g.OutChannels;
        if (batch == 0 || cout == 0) return;
        bool tensorCores = Precision == ComputePrecision.BFloat16 && weight.Format == WeightFormat.BFloat16;
        var colType = tensorCores ? DType.BFloat16 : DType.Float32;
        if (!tensorCores) w = Float32Weight(weight, w);
        int chunk = Conv2dChunkPixels(patch, cout, pixels, ChunkElements);
        ulong col = _scratchX.Get((long)chunk * patch * colType.SizeInBytes());
        bool wide = y.DType != DType.Float32;
        ulong sums = wide ? _scratchY.Get(4L * cout * chunk) : 0;
        string im2col = KernelFamily.ForActivation(KernelFamily.ForActivation("im2col", x.DType), colType);
        long xItem = (long)g.InChannels * g.InPlane * x.DType.SizeInBytes(), yItem = (long)cout * pixels * y.DType.SizeInBytes();
        for (int b = 0; b < batch; b++)
        {
            ulong xb = xp + (ulong)(b * xItem), yb = yp + (ulong)(b * yItem);
            for (int first = 0; first < pixels; first += chunk)
            {
                int count = Math.Min(chunk, pixels - first);
                ulong yc = yb + (ulong)((long)first * y.DType.SizeInBytes()), target = wide ? sums : yc;
                int ldt = wide ? count : pixels;
                ConvBias(y.DType, yc, pixels, target, ldt, cout, count, bp, accumulate);
                if (patch > 0)
                {
                    // col's rows keep the whole chunk's stride (a multiple of 128 when more than 128 fit), so the last, shorter
                    // chunk's rows stay aligned for the tensor cores.
                    Im2col(im2col, xb, g, first, count, col, chunk);
                    Multiply(new CublasLtGemm.Operands(w, DataType(colType), patch, col, DataType(colType), target, CublasLt.DataFloat32, ldt,
                        Ldw: chunk, WDepthMajor: true), cout, count, patch, accumulate: true);
                }
                if (wide) Convert("convert_f32_bf16", sums, count, yc, pixels, cout, count);
            }
        }
    }

    /// <summary>Output pixels per convolution chunk: as many as keep the patches [patch, pixels] (rows a whole chunk apart)
    /// and the sums [Cout, pixels] within <paramref name="budget"/> elements (and below 2³¹, the kernel's index range), a
    /// multiple of 128 when more than 128 fit (aligned rows of the patches and the GEMM's columns), at least one and at
    /// most all.</summary>
    internal static int Conv2dChunkPixels(int patch, int outChannels, int pixels, long budget)
    {
        long fit = Math.Max(1, Math.Min(budget, int.MaxValue) / Math.Max(1, Math.Max(patch, outChannels)));
        if (fit > 128) fit -= fit % 128;
        return (int)Math.Min(fit, pixels);
    }

    /// <summary>Two passes, so that a few large groups still fill the device: blocks of <see cref="ConvKernels.GroupChunk"/>
    /// values add their sums of x and x² into per-group doubles, then every value is normalised from its group's sums.</summary>
    public void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y)
    {
        CudaOperands.GroupNorm(x, groups, gamma, beta, y);
        ulong xp = Pointer(x, nameof(x)), yp = Pointer(y, nameof(y)), gp = Pointer(gamma, nameof(gamma)), bp = Pointer(beta, nameof(beta));
        if (xp == yp && x.Length > 0) throw new ArgumentException("group norm: y must not alias x", nameof(y));
        int channelsPerGroup = x.Shape[1] / groups, plane = checked(x.Shape[2] * x.Shape[3]);
        long groupLength = (long)channelsPerGroup * plane, count = (long)x.Shape[0] * groups;
        if (groupLength == 0 || count == 0) return;
        int chunks = checked((int)((groupLength + ConvKernels.GroupChunk - 1) / ConvKernels.GroupChunk));
        uint blocks = (uint)checked((int)(count * chunks));
        long sumBytes = 2 * sizeof(double) * count;
        ulong sums = _pool.Rent(sumBytes);
        try
        {
            Begin();
            CudaDriver.Check(CudaDriver.cuMemsetD8Async(sums, 0, (nuint)sumBytes, _device.Stream), nameof(CudaDriver.cuMemsetD8Async));
            var s = new KernelArguments();
            s.Add(xp);
            s.Add(groupLength);
            s.Add(chunks);
            s.Add(ConvKernels.GroupChunk);
            s.Add(sums);
            Launch(KernelFamily.ForActivation("group_norm_sums", x.DType), blocks, 1, 1, Threads, ref s);
            var a = new KernelArguments();
            a.Add(xp);
            a.Add(yp);
            a.Add(sums);
            a.Add(groupLength);
            a.Add(chunks);
            a.Add(ConvKernels.GroupChunk);
            a.Add(plane);
            a.Add(channelsPerGroup);
            a.Add(groups);
            a.Add(gp);
            a.Add(bp);
            a.Add(eps);
            a.Add(silu ? 1 : 0);
            Launch(KernelFamily.ForActivation("group_norm_apply", x.DType), blocks, 1, 1, Threads, ref a);
        }
        finally
        {
            _pool.Return(sums, sumBytes);
        }
    }

    public void UpsampleNearest2x(Tensor x, Tensor y)
    {
        Upsampled(x, y);
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add(Pointer(y, nameof(y)));
        a.Add((long)x.Shape[0] * x.Shape[1]);
        a.Add(x.Shape[2]);
        a.Add(x.Shape[3]);
        Launch(KernelFamily.ForActivation("upsample_nearest_2x", x.DType), y.Length, ref a);
    }

    /// <summary>y[b, c, r] = x[b, r, c]: one block of <see cref="Threads"/> threads per 32×32 tile, the batch along the
    /// grid's y (at most 65535, the kernel loops over the rest).</summary>
    public void TransposeLastTwo(Tensor x, Tensor y)
    {
        var (batch, rows, columns) = Transposed(x, y);
        ulong xp = Pointer(x, nameof(x)), yp = Pointer(y, nameof(y));
        if (xp == yp && x.Length > 0) throw new ArgumentException("transpose: y must not alias x", nameof(y));
        if ((long)batch * rows * columns == 0) return;
        long tiles = (rows + 31L) / 32 * ((columns + 31L) / 32);
        var a = new KernelArguments();
        a.Add(xp);
        a.Add(yp);
        a.Add(batch);
        a.Add(rows);
        a.Add(columns);
        Launch(KernelFamily.ForActivation("transpose_last_two", x.DType), (uint)checked((int)tiles), (uint)Math.Min(batch, 65535), 1, Threads, ref a);
    }

    /// <summary>Queues sum[co, c] = bias[co] (+ y[co, c]) over one chunk's columns.</summary>
    private void ConvBias(DType yType, ulong y, int ldy, ulong sum, int lds, int rows, int width, ulong bias, bool accumulate)
    {
        var a = new KernelArguments();
        a.Add(y);
        a.Add((long)ldy);
        a.Add(sum);
        a.Add((long)lds);
        a.Add(rows);
        a.Add(width);
        a.Add(bias);
        a.Add(accumulate ? 1 : 0);
        Launch(KernelFamily.ForActivation("conv_bias", yType), (long)rows * width, ref a);
    }

    /// <summary>Queues the patches of output pixels [first, first + count) of one image into col.</summary>
    private void Im2col(string kernel, ulong x, in Conv2dGeometry g, int first, int count, ulong col, int ldc)
    {
        var a = new KernelArguments();
        a.Add(x);
        a.Add(g.Height);
        a.Add(g.Width);
        a.Add(g.KernelSize);
        a.Add(g.Stride);
        a.Add(g.Padding.Top);
        a.Add(g.Padding.Left);
        a.Add(g.OutWidth);
        a.Add(first);
        a.Add(count);
        a.Add(g.PatchLength);
        a.Add(col);
        a.Add(ldc);
        Launch(kernel, (long)count * g.PatchLength, ref a);
    }
}
