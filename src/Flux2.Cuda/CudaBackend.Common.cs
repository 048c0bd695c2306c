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
    // Operands a Linear converts before cuBLASLt (see Linear), and a Conv2d's patches, fp32 weight and fp32 sums; reused
    // by every call, in stream order.
    private readonly ScratchBuffer _scratchX, _scratchW, _scratchY;

    /// <summary>Elements of one chunk of an operand an op stages in a scratch buffer: a convolution's patches (and the fp32
    /// sums of a bf16 y), a wide-head attention's scores. 64 Mi, at most 256 MiB. Settable so tests can make small inputs
    /// take many chunks.</summary>
    internal long ChunkElements { get; set; } = 64L << 20;

    // An FP8 Linear's activation maximum (float bits) and, 16 bytes on, its scale: written by the quantization and read by
    // the GEMM after it.
    private const int Fp8ActivationBytes = 32;
    private const int Fp8ActivationScaleOffset = 16;
    private readonly ulong _fp8Activation;

    /// <summary>bf16 weights with <see cref="ComputePrecision.BFloat16"/>: one tensor-core GEMM on bf16 operands (x rounded to
    /// bf16 first when it is fp32), written as y's type. FP8 weights kept as stored (bf16 products on sm_89+): x quantized
    /// to E4M3 with one scale per call (<see cref="Fp8Kernels"/>), then cuBLASLt's FP8 GEMM with both scales, summed in fp32.
    /// Otherwise an exact fp32 GEMM: bf16/f16 weights and bf16 x are widened to fp32 copies (exact), and a bf16 y is
    /// computed in fp32 and rounded once.</summary>
    public void Linear(Tensor x, LinearWeight weight, Tensor y, int yColumn = 0, bool accumulate = false)
    {
        Activation(x, nameof(x));
        Activation(y, nameof(y));
        int rows = Rows(x), k = Width(x), n = weight.OutFeatures;
        if (k != weight.InFeatures) throw new ArgumentException($"{weight.Name}: input {x.ShapeText} does not have {weight.InFeatures} features", nameof(x));
        RowCount(y, rows, nameof(y));
        Columns(y, yColumn, n, nameof(y));
        ulong w = WeightPointer(weight), xp = Pointer(x, nameof(x)), yp = Pointer(y, yColumn, nameof(y));
        LinearProduct(xp, x.DType, rows, weight, w, yp, y.DType, Width(y), accumulate, $"column {yColumn} of {y.DType} {y.ShapeText}");
    }

    /// <summary>The product of <see cref="Linear"/> on checked device operands: x [rows, K] (row stride K), y at its first
    /// column with row stride <paramref name="ldy"/>; <paramref name="target"/> names y in an error.</summary>
    private void LinearProduct(ulong xp, DType xType, int rows, LinearWeight weight, ulong w, ulong yp, DType yType, int ldy, bool accumulate,
        string target)
    {
        int k = weight.InFeatures, n = weight.OutFeatures;
        if (rows == 0) return;
        if (weight.Format == WeightFormat.Fp8E4M3)
        {
            // cuBLASLt's FP8 GEMM needs 16-byte aligned C/D rows; the model's column ranges are multiples of 16.
            if (yp % 16 != 0 || (long)ldy * yType.SizeInBytes() % 16 != 0)
                throw new CudaUnsupportedOpException($"FP8 Linear {weight.Name} into {target} (rows and columns must start at 16-byte boundaries)");
            ulong q = QuantizeFp8(xp, xType, rows, k);
            Multiply(new CublasLtGemm.Operands(q, CublasLt.DataFloat8E4M3, k, w, CublasLt.DataFloat8E4M3, yp, DataType(yType), ldy,
                XScale: _fp8Activation + Fp8ActivationScaleOffset, WScale: Fp8ScalePointer(weight, w)), rows, n, k, accumulate);
            return;
        }
        if (Precision == ComputePrecision.BFloat16 && weight.Format == WeightFormat.BFloat16)
        {
            if (xType == DType.Float32) xp = Convert("convert_f32_bf16", xp, k, _scratchX.Get(2L * rows * k), k, rows, k);
            Multiply(new CublasLtGemm.Operands(xp, CublasLt.DataBFloat16, k, w, CublasLt.DataBFloat16, yp, DataType(yType), ldy),
                rows, n, k, accumulate);
            return;
        }
        w = Float32Weight(weight, w);
        if (xType == DType.BFloat16) xp = Convert("convert_bf16_f32", xp, k, _scratchX.Get(4L * rows * k), k, rows, k);
        if (yType == DType.Float32)
        {
            Multiply(new CublasLtGemm.Operands(xp, CublasLt.DataFloat32, k, w, CublasLt.DataFloat32, yp, CublasLt.DataFloat32, ldy),
                rows, n, k, accumulate);
            return;
        }
        ulong wide = _scratchY.Get(4L * rows * n);
        if (accumulate) Convert("convert_bf16_f32", yp, ldy, wide, n, rows, n);
        Multiply(new CublasLtGemm.Operands(xp, CublasLt.DataFloat32, k, w, CublasLt.DataFloat32, wide, CublasLt.DataFloat32, n),
            rows, n, k, accumulate);
        Convert("convert_f32_bf16", wide, n, yp, ldy, rows, n);
    }

    /// <summary>The products with B over x read as [rows·b, d] into the scratch (a <see cref="LinearProduct"/>), then
    /// <see cref="KroneckerKernels"/>' mix of their blocks by A into y, summed in fp32.</summary>
    public void KroneckerLinear(Tensor x, Tensor first, LinearWeight second, Tensor scratch, Tensor y, int yColumn, int outputStart, int outputCount,
        Tensor? outputScales = null)
    {
        Activation(x, nameof(x));
        Type(first, DType.Float32, nameof(first));
        Activation(y, nameof(y));
        Activation(scratch, nameof(scratch));
        var g = KroneckerGeometry.Of(x, first, second, scratch, y, yColumn, outputStart, outputCount, outputScales);
        ulong w = WeightPointer(second), xp = Pointer(x, nameof(x)), tp = Pointer(scratch, nameof(scratch)), yp = Pointer(y, yColumn, nameof(y));
        ulong ap = Pointer(first, nameof(first)), sp = outputScales == null ? 0 : Pointer(outputScales, nameof(outputScales));
        if (g.Rows == 0 || outputCount == 0) return;
        LinearProduct(xp, x.DType, g.Rows * g.B, second, w, tp, scratch.DType, g.C, accumulate: false, $"{scratch.DType} scratch {scratch.ShapeText}");
        var a = new KernelArguments();
        a.Add(tp);
        a.Add(ap);
        a.Add(g.B);
        a.Add(g.C);
        a.Add(outputStart);
        a.Add(outputCount);
        a.Add(yp);
        a.Add((long)Width(y));
        a.Add(g.Rows);
        a.Add(sp);
        Launch(KroneckerKernels.Kernel(scratch.DType, y.DType), (long)g.Rows * outputCount, ref a);
    }

    public void ModulatedLayerNorm(Tensor x, Tensor y, Tensor modulation, int shiftColumn, int scaleColumn, float eps)
    {
        var (_, length, width) = Modulated(x, modulation, nameof(x));
        SameShape(x, y, nameof(y));
        Columns(modulation, shiftColumn, width, nameof(shiftColumn));
        Columns(modulation, scaleColumn, width, nameof(scaleColumn));
        int rows = Rows(x);
        if (rows == 0 || width == 0) return;
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add(Pointer(y, nameof(y)));
        a.Add(Pointer(modulation, shiftColumn, nameof(modulation)));
        a.Add(Pointer(modulation, scaleColumn, nameof(modulation)));
        a.Add(length);
        a.Add(width);
        a.Add((long)Width(modulation));
        a.Add(eps);
        Launch(KernelFamily.ForActivation("modulated_layer_norm", x.DType), (uint)rows, 1, 1, Threads, ref a);
    }

    public void AddGated(Tensor x, Tensor y, Tensor modulation, int gateColumn)
    {
        var (_, length, width) = Modulated(x, modulation, nameof(x));
        SameShape(x, y, nameof(y));
        Columns(modulation, gateColumn, width, nameof(gateColumn));
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add(Pointer(y, nameof(y)));
        a.Add(Pointer(modulation, gateColumn, nameof(modulation)));
        a.Add(x.Length);
        a.Add(length);
        a.Add(width);
        a.Add((long)Width(modulation));
        Launch(KernelFamily.ForActivation("add_gated", x.DType), x.Length, ref a);
    }

    public void ScaleColumns(Tensor x, int xColumn, Tensor scales, Tensor y, int yColumn, bool accumulate = false)
    {
        Activation(x, nameof(x));
        SameType(x, y, nameof(y));
        Type(scales, DType.Float32, nameof(scales));
        int rows = Rows(x), width = checked((int)scales.Length);
        RowCount(y, rows, nameof(y));
        Columns(x, xColumn, width, nameof(xColumn));
        Columns(y, yColumn, width, nameof(yColumn));
        var a = new KernelArguments();
        a.Add(Pointer(x, xColumn, nameof(x)));
        a.Add(Width(x));
        a.Add(Pointer(scales, nameof(scales)));
        a.Add(Pointer(y, yColumn, nameof(y)));
        a.Add(Width(y));
        a.Add(rows);
        a.Add(width);
        a.Add(accumulate ? 1 : 0);
        Launch(KernelFamily.ForActivation("scale_columns", x.DType), (long)rows * width, ref a);
    }

    public void RmsNorm(Tensor x, Tensor y, Tensor weight, float eps, int column = 0, int width = -1)
    {
        Activation(x, nameof(x));
        SameShape(x, y, nameof(y));
        if (width < 0) width = Width(x) - column;
        Columns(x, column, width, nameof(column));
        int group = checked((int)weight.Length), rows = Rows(x);
        if (weight.DType != DType.Float32 || group == 0 || width % group != 0)
            throw new ArgumentException($"RMSNorm weight {weight.ShapeText} ({weight.DType}) does not divide width {width}", nameof(weight));
        long warps = (long)rows * (width / group);
        if (warps == 0) return;
        var a = new KernelArguments();
        a.Add(Pointer(x, column, nameof(x)));
        a.Add(Pointer(y, column, nameof(y)));
        a.Add(Pointer(weight, nameof(weight)));
        a.Add(rows);
        a.Add(Width(x));
        a.Add(width);
        a.Add(group);
        a.Add(eps);
        // One warp per (row, group), 8 warps per block.
        Launch(KernelFamily.ForActivation("rms_norm", x.DType), checked((uint)((warps + 7) / 8)), 1, 1, Threads, ref a);
    }

    public void Silu(Tensor x, Tensor y)
    {
        Activation(x, nameof(x));
        SameShape(x, y, nameof(y));
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add(Pointer(y, nameof(y)));
        a.Add(x.Length);
        Launch(KernelFamily.ForActivation("silu", x.DType), x.Length, ref a);
    }

    public void SwiGlu(Tensor z, int column, int width, Tensor y, int yColumn = 0)
    {
        Activation(z, nameof(z));
        SameType(z, y, nameof(y));
        int rows = Rows(z);
        Columns(z, column, 2 * width, nameof(column));
        RowCount(y, rows, nameof(y));
        Columns(y, yColumn, width, nameof(yColumn));
        var a = new KernelArguments();
        a.Add(Pointer(z, column, nameof(z)));
        a.Add(Width(z));
        a.Add(Pointer(y, yColumn, nameof(y)));
        a.Add(Width(y));
        a.Add(rows);
        a.Add(width);
        Launch(KernelFamily.ForActivation("swiglu", z.DType), (long)rows * width, ref a);
    }

    public void CopyColumns(Tensor x, int column, int width, Tensor y, int yColumn = 0)
    {
        int rows = Rows(x);
        RowCount(y, rows, nameof(y));
        if (x.DType != y.DType) throw new ArgumentException($"copy from {x.DType} to {y.DType}", nameof(y));
        Columns(x, column, width, nameof(column));
        Columns(y, yColumn, width, nameof(yColumn));
        var a = new KernelArguments();
        a.Add(Pointer(x, column, nameof(x)));
        a.Add(Width(x));
        a.Add(Pointer(y, yColumn, nameof(y)));
        a.Add(Width(y));
        a.Add(rows);
        a.Add(width);
        Launch($"copy_columns_{x.DType.SizeInBytes()}", (long)rows * width, ref a);
    }

    public void Copy(Tensor source, Tensor destination)
    {
        if (source.DType != destination.DType || source.Length != destination.Length)
            throw new ArgumentException($"cannot copy {source.DType} {source.ShapeText} into {destination.DType} {destination.ShapeText}", nameof(destination));
        ulong from = Pointer(source, nameof(source)), to = Pointer(destination, nameof(destination));
        if (source.ByteLength == 0) return;
        Begin();
        CudaDriver.Check(CudaDriver.cuMemcpyDtoDAsync_v2(to, from, (nuint)source.ByteLength, _device.Stream), nameof(CudaDriver.cuMemcpyDtoDAsync_v2));
    }

    /// <summary>As the CPU's, except that an index outside the source gives a zero row instead of an error: the indices are
    /// on the device, and the one caller (VaeLatents) checks them on the host before uploading.</summary>
    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        Type(indices, DType.Int64, nameof(indices));
        int width = Width(source);
        if (destination.DType != source.DType || Width(destination) != width || destination.Length != indices.Length * width)
            throw new ArgumentException($"gathering {indices.Length} rows of {source.DType} {source.ShapeText} into {destination.DType} {destination.ShapeText}", nameof(destination));
        var a = new KernelArguments();
        a.Add(Pointer(source, nameof(source)));
        a.Add((long)Rows(source));
        a.Add(Pointer(indices, nameof(indices)));
        a.Add(Pointer(destination, nameof(destination)));
        a.Add(checked((int)indices.Length));
        a.Add(width);
        Launch($"gather_rows_{source.DType.SizeInBytes()}", destination.Length, ref a);
    }

    public void RopeTable(Tensor ids, IReadOnlyList<int> axesDims, double theta, Tensor cos, Tensor sin)
    {
        Type(ids, DType.Int64, nameof(ids));
        int rows = Rows(ids);
        if (Width(ids) != axesDims.Count) throw new ArgumentException($"ids {ids.ShapeText} do not have {axesDims.Count} axes", nameof(ids));
        if (axesDims.Count > RopeKernels.MaxAxes) throw new ArgumentException($"{axesDims.Count} RoPE axes, at most {RopeKernels.MaxAxes}", nameof(axesDims));
        var axes = new RopeAxes { Count = axesDims.Count };
        int pairs = 0;
        for (int i = 0; i < axesDims.Count; i++) pairs += (axes.Dims[i] = axesDims[i]) / 2;
        Type(cos, DType.Float32, nameof(cos));
        RowCount(cos, rows, nameof(cos));
        if (Width(cos) != pairs) throw new ArgumentException($"cos {cos.ShapeText} must have {pairs} columns", nameof(cos));
        SameShape(cos, sin, nameof(sin));
        var a = new KernelArguments();
        a.Add(Pointer(ids, nameof(ids)));
        a.Add(rows);
        a.Add(pairs);
        a.Add(axes);
        a.Add(theta);
        a.Add(Pointer(cos, nameof(cos)));
        a.Add(Pointer(sin, nameof(sin)));
        Launch("rope_table", (long)rows * pairs, ref a);
    }

    public void InterleavedRope(Tensor x, int column, int heads, Tensor cos, Tensor sin)
    {
        Activation(x, nameof(x));
        Type(cos, DType.Float32, nameof(cos));
        SameShape(cos, sin, nameof(sin));
        int rows = Rows(x), tableRows = Rows(cos), pairs = Width(cos);
        Columns(x, column, heads * 2 * pairs, nameof(column));
        if (tableRows == 0 || rows % tableRows != 0)
            throw new ArgumentException($"x {x.ShapeText} rows are not a whole number of RoPE tables of {tableRows} rows", nameof(x));
        var a = new KernelArguments();
        a.Add(Pointer(x, column, nameof(x)));
        a.Add(Width(x));
        a.Add(rows);
        a.Add(heads);
        a.Add(pairs);
        a.Add(Pointer(cos, nameof(cos)));
        a.Add(Pointer(sin, nameof(sin)));
        a.Add(tableRows);
        Launch(KernelFamily.ForActivation("interleaved_rope", x.DType), (long)rows * heads * pairs, ref a);
    }

    public void TimestepEmbedding(Tensor timesteps, float multiplier, Tensor embedding)
    {
        Type(timesteps, DType.Float32, nameof(timesteps));
        Activation(embedding, nameof(embedding));
        int batch = checked((int)timesteps.Length);
        RowCount(embedding, batch, nameof(embedding));
        if (Width(embedding) % 2 != 0) throw new ArgumentException($"embedding {embedding.ShapeText} width must be even", nameof(embedding));
        var a = new KernelArguments();
        a.Add(Pointer(timesteps, nameof(timesteps)));
        a.Add(multiplier);
        // The same fp32 constant as the CPU kernel.
        a.Add((float)-Math.Log(10000.0));
        a.Add(Pointer(embedding, nameof(embedding)));
        a.Add(batch);
        a.Add(Width(embedding));
        Launch(KernelFamily.ForActivation("timestep_embedding", embedding.DType), (long)batch * (Width(embedding) / 2), ref a);
    }

    public void Attention(Tensor q, int qColumn, Tensor k, int kColumn, Tensor v, int vColumn, Tensor output, int outputColumn,
        int heads, int headDim, float scale)
    {
        Activation(q, nameof(q));
        SameType(q, k, nameof(k));
        SameType(q, v, nameof(v));
        SameType(q, output, nameof(output));
        int batch = q.Rank >= 3 ? q.Shape[0] : 1, width = heads * headDim;
        int lq = AttentionRows(q, qColumn, width, batch, nameof(q));
        int lk = AttentionRows(k, kColumn, width, batch, nameof(k));
        if (AttentionRows(v, vColumn, width, batch, nameof(v)) != lk)
            throw new ArgumentException($"k {k.ShapeText} and v {v.ShapeText} have different lengths", nameof(v));
        if (AttentionRows(output, outputColumn, width, batch, nameof(output)) != lq)
            throw new ArgumentException($"q {q.ShapeText} and output {output.ShapeText} have different lengths", nameof(output));
        if (lq == 0 || heads == 0 || headDim == 0 || batch == 0) return;
        var operands = new AttentionOperands(Pointer(q, qColumn, nameof(q)), Width(q), Pointer(k, kColumn, nameof(k)), Width(k),
            Pointer(v, vColumn, nameof(v)), Width(v), Pointer(output, outputColumn, nameof(output)), Width(output), q.DType);
        // No keys: the SIMT kernel writes zeros, as the CPU does.
        if (lk > 0 && q.DType == DType.BFloat16 && TensorCoreAttentionKernels.Serves(headDim) && scale > 0 && float.IsFinite(scale) && operands.TensorCoreAligned)
        {
            LaunchTensorCoreAttention(operands, batch, heads, lq, lk, headDim, scale);
            return;
        }
        if (headDim > AttentionKernels.MaxHeadDim || lk > 0 && lk >= GemmAttentionMinKeys)
        {
            GemmAttention(q, qColumn, k, kColumn, v, vColumn, output, outputColumn, batch, heads, headDim, scale);
            return;
        }
        LaunchAttention(operands, batch, heads, lq, lk, headDim, scale, kvGroup: 1, keyMask: 0, causal: false, uniformWhenMasked: false);
    }

    /// <summary>Queues the tensor-core flash kernel over batch × heads × ceil(lq / 128) blocks (see <see cref="TensorCoreAttentionKernels"/>).</summary>
    private void LaunchTensorCoreAttention(AttentionOperands operands, int batch, int heads, int lq, int lk, int headDim, float scale)
    {
        CheckAttentionGrid(batch, heads);
        var a = new KernelArguments();
        operands.AddTo(ref a);
        a.Add(lq);
        a.Add(lk);
        a.Add(scale);
        Launch(TensorCoreAttentionKernels.KernelFor(headDim), (uint)((lq + TensorCoreAttentionKernels.RowsPerBlock - 1) / TensorCoreAttentionKernels.RowsPerBlock),
            (uint)heads, (uint)batch, TensorCoreAttentionKernels.Threads, ref a);
    }

    /// <summary>The attention kernels put heads in grid y and the batch in grid z, each at most 65535 blocks.</summary>
    private static void CheckAttentionGrid(int batch, int heads)
    {
        if (batch > ushort.MaxValue || heads > ushort.MaxValue)
            throw new CudaUnsupportedOpException($"attention over batch {batch} × {heads} heads (each at most {ushort.MaxValue})");
    }

    /// <summary>Where the flash kernels read and write: each operand's first element of head 0 and its row stride.</summary>
    private readonly record struct AttentionOperands(ulong Q, int Ldq, ulong K, int Ldk, ulong V, int Ldv, ulong Output, int Ldo, DType DType)
    {
        /// <summary>Whether the bf16 operands suit the tensor-core kernel: K and V rows start on 16 bytes (it copies them in
        /// 16-byte pieces), Q and output rows on 4 (it reads and writes bf16 pairs as words).</summary>
        public bool TensorCoreAligned => ((K | V) & 15) == 0 && (Ldk | Ldv) % 8 == 0 && ((Q | Output) & 3) == 0 && int.IsEvenInteger(Ldq | Ldo);

        /// <summary>The kernels' first eight arguments: q, ldq, k, ldk, v, ldv, o, ldo.</summary>
        public void AddTo(ref KernelArguments a)
        {
            a.Add(Q);
            a.Add(Ldq);
            a.Add(K);
            a.Add(Ldk);
            a.Add(V);
            a.Add(Ldv);
            a.Add(Output);
            a.Add(Ldo);
        }
    }

    /// <summary>Queues the flash kernel over batch × heads × ceil(lq / 16) blocks (see <see cref="AttentionKernels"/>).</summary>
    private void LaunchAttention(AttentionOperands operands, int batch, int heads, int lq, int lk, int headDim, float scale, int kvGroup,
        ulong keyMask, bool causal, bool uniformWhenMasked)
    {
        if (headDim > AttentionKernels.MaxHeadDim) throw new CudaUnsupportedOpException($"Attention with head dim {headDim} (at most {AttentionKernels.MaxHeadDim})");
        CheckAttentionGrid(batch, heads);
        var a = new KernelArguments();
        operands.AddTo(ref a);
        a.Add(lq);
        a.Add(lk);
        a.Add(headDim);
        a.Add(scale);
        a.Add(kvGroup);
        a.Add(keyMask);
        a.Add(causal ? 1 : 0);
        a.Add(uniformWhenMasked ? 1 : 0);
        string kernel = AttentionKernels.KernelFor(operands.DType == DType.BFloat16 ? "bf16" : "f32", headDim);
        Launch(kernel, (uint)((lq + AttentionKernels.RowsPerBlock - 1) / AttentionKernels.RowsPerBlock), (uint)heads, (uint)batch,
            AttentionKernels.Threads, ref a);
    }

    /// <summary>Queues y[r, c] = x[r, c] for r &lt; rows, c &lt; width through a conversion kernel; returns y.</summary>
    private ulong Convert(string kernel, ulong x, int ldx, ulong y, int ldy, int rows, int width)
    {
        var a = new KernelArguments();
        a.Add(x);
        a.Add(ldx);
        a.Add(y);
        a.Add(ldy);
        a.Add(rows);
        a.Add(width);
        Launch(kernel, (long)rows * width, ref a);
        return y;
    }

    /// <summary>x [rows, width] (contiguous) as E4M3 bytes in the x scratch, its scale at <see cref="_fp8Activation"/> + 16.</summary>
    private ulong QuantizeFp8(ulong x, DType type, int rows, int width)
    {
        Begin();
        CudaDriver.Check(CudaDriver.cuMemsetD8Async(_fp8Activation, 0, Fp8ActivationBytes, _device.Stream), nameof(CudaDriver.cuMemsetD8Async));
        ulong q = _scratchX.Get((long)rows * width);
        var a = new KernelArguments();
        a.Add(x);
        a.Add(width);
        a.Add(rows);
        a.Add(width);
        a.Add(_fp8Activation);
        Launch(KernelFamily.ForActivation("fp8_amax", type), (long)rows * width, ref a);
        var b = new KernelArguments();
        b.Add(x);
        b.Add(width);
        b.Add(rows);
        b.Add(width);
        b.Add(_fp8Activation);
        b.Add(q);
        b.Add(_fp8Activation + Fp8ActivationScaleOffset);
        Launch(KernelFamily.ForActivation("fp8_quantize", type), (long)rows * width, ref b);
        return q;
    }

    /// <summary>Where a resident FP8 weight's scale lies: after its bytes, at a 256-byte boundary.</summary>
    private static long Fp8ScaleOffset(LinearWeight weight) => (weight.DataBytes + 255) / 256 * 256;

    private static ulong Fp8ScalePointer(LinearWeight weight, ulong data) => data + (ulong)Fp8ScaleOffset(weight);

    /// <summary>A resident weight as fp32: itself, or a widened copy (exact) in the weight scratch.</summary>
    private ulong Float32Weight(LinearWeight weight, ulong w)
    {
        if (weight.Format == WeightFormat.Float32) return w;
        int n = weight.OutFeatures, k = weight.InFeatures;
        return Convert(weight.Format == WeightFormat.BFloat16 ? "convert_bf16_f32" : "convert_f16_f32", w, k, _scratchW.Get(4L * n * k), k, n, k);
    }

    private static int DataType(DType dtype) => dtype == DType.BFloat16 ? CublasLt.DataBFloat16 : CublasLt.DataFloat32;

    /// <summary>The rope_table kernel's RopeAxes parameter: the axis count and up to 8 head dims, passed by value.</summary>
    private struct RopeAxes
    {
        public int Count;
        public fixed int Dims[RopeKernels.MaxAxes];
    }
}
