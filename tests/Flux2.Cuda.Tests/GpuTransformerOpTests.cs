using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Tests;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>The transformer's ops on the GPU against the CPU backend, on ragged shapes, in both precisions. Skipped without a GPU.</summary>
public sealed class GpuTransformerOpTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    public static readonly TheoryData<ComputePrecision> Precisions = [ComputePrecision.Float32, ComputePrecision.BFloat16];

    public static TheoryData<ComputePrecision, WeightFormat, int, int, int, bool, bool> LinearCases()
    {
        var data = new TheoryData<ComputePrecision, WeightFormat, int, int, int, bool, bool>();
        foreach (var precision in Precisions)
        foreach (var format in new[] { WeightFormat.BFloat16, WeightFormat.Float16, WeightFormat.Float32, WeightFormat.Fp8E4M3, WeightFormat.Nvfp4 })
        foreach (var (rows, k, n) in new[] { (1, 16, 8), (17, 64, 40), (65, 256, 136) })
        {
            data.Add(precision, format, rows, k, n, false, false);
            data.Add(precision, format, rows, k, n, true, true);
        }
        return data;
    }

    /// <summary>y[:, 8 .. 8 + N) (+)= x·Wᵀ into a wider y whose other columns must stay; x and y each as the activation
    /// type or Float32 (the model's input embedders read fp32 latents, its final layer writes fp32). FP8 and NVFP4 weights
    /// are expanded at load on the GPU and decoded while packing on the CPU: the same values either way.</summary>
    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear(ComputePrecision precision, WeightFormat format, int rows, int k, int n, bool float32Operands, bool accumulate)
    {
        using var stored = new HostWeight(format, Random(n * k, 1, 0.5f), n, k);
        comparison.Compare($"Linear {format} [{rows},{k}]x[{n},{k}]{(accumulate ? " +=" : "")}", precision, s =>
        {
            using var weight = s.Backend.LoadLinear(stored.Weight);
            var x = float32Operands ? s.InFloat32(Random(rows * k, 2), rows, k) : s.In(Random(rows * k, 2), rows, k);
            var y = float32Operands ? s.InFloat32(Random(rows * (n + 16), 3), rows, n + 16) : s.In(Random(rows * (n + 16), 3), rows, n + 16);
            s.Backend.Linear(x, weight, y, 8, accumulate);
            return s.Read(y);
        });
    }

    public static TheoryData<ComputePrecision, int, int, int, int, bool> KroneckerCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, int, bool>();
        foreach (var precision in Precisions)
        foreach (var (a, b, c, d) in new[] { (3, 2, 7, 5), (4, 4, 48, 33), (16, 8, 12, 16) })
        {
            data.Add(precision, a, b, c, d, false);
            data.Add(precision, a, b, c, d, true);
        }
        return data;
    }

    /// <summary>The LoKr side path: y[:, 8 ..) += x·(A ⊗ B)ᵀ over outputs [c + 1, a·c − 2) (starting and ending inside
    /// Kronecker blocks) of a wider y whose other columns must stay; the scratch poisoned first, y as the activation type or
    /// Float32 (the model's final Linear); without and with output scales (a DoRA LoKr).</summary>
    [Theory]
    [MemberData(nameof(KroneckerCases))]
    public void KroneckerLinear(ComputePrecision precision, int a, int b, int c, int d, bool float32Output)
    {
        const int rows = 37;
        int start = c + 1, count = a * c - 3 - c;
        using var second = new HostWeight(WeightFormat.Float32, Random(c * d, 21, 0.5f), c, d);
        foreach (bool scaled in new[] { false, true })
            comparison.Compare($"KroneckerLinear [{a},{b}]⊗[{c},{d}] rows {rows}{(float32Output ? " into f32" : "")}{(scaled ? " scaled" : "")}", precision, s =>
            {
                using var weight = s.Backend.LoadLinear(second.Weight);
                var x = s.In(Random(rows * b * d, 22), rows, b * d);
                var first = s.InFloat32(Random(a * b, 23, 0.5f), a, b);
                var scratch = s.Out(rows, b * c);
                var y = float32Output ? s.InFloat32(Random(rows * (count + 16), 24), rows, count + 16) : s.In(Random(rows * (count + 16), 24), rows, count + 16);
                var scales = scaled ? s.InFloat32(Random(a * c, 25, 2f), a * c) : null;
                s.Backend.KroneckerLinear(x, first, weight, scratch, y, 8, start, count, scales);
                return s.Read(y);
            });
    }

    /// <summary>An FP8 weight kept as stored (bf16 products on sm_89+): x is quantized to E4M3 with one scale per call and
    /// cuBLASLt's FP8 GEMM sums the products. Against the host's emulation of exactly that (E4M3.Encode of x / (amax / 448),
    /// the weight's bytes times its scale, summed in double): within the fp32 sums (fp32 y) or the bf16 rounding of y.
    /// Against the product of the unquantized x, what FP8 activations cost is reported.</summary>
    [Theory]
    [InlineData(33, 64, 48, false)]
    [InlineData(33, 64, 48, true)]
    [InlineData(300, 3072, 512, true)]
    public void Fp8LinearRunsOnE4M3Activations(int rows, int k, int n, bool bf16Output)
    {
        var gpu = comparison.Gpu(ComputePrecision.BFloat16);
        Assert.SkipWhen(gpu.ComputeCapability < 89, $"sm_{gpu.ComputeCapability} has no FP8 tensor cores");
        var x = Random(rows * k, 11, 3f);
        using var stored = new HostWeight(WeightFormat.Fp8E4M3, Random(n * k, 12, 0.5f), n, k);
        var w = new float[n * k];
        unsafe
        {
            fixed (float* row = w)
                for (int j = 0; j < n; j++) Flux2.Core.Decoding.WeightRowDecoder.Decode(stored.Weight, j, 0, k, row + (long)j * k);
        }
        float[] Product(float[] input)
        {
            var y = new float[rows * n];
            for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int i = 0; i < k; i++) sum += (double)input[r * k + i] * w[j * k + i];
                y[r * n + j] = (float)sum;
            }
            return y;
        }

        using var weight = gpu.LoadLinear(stored.Weight);
        Assert.Equal(WeightFormat.Fp8E4M3, weight.Format);
        using var input = gpu.Upload<float>(x, rows, k);
        using var output = gpu.Allocate(bf16Output ? DType.BFloat16 : DType.Float32, rows, n);
        gpu.Linear(input, weight, output);
        var actual = gpu.DownloadFloat32(output);
        string name = $"Linear FP8 GEMM [{rows},{k}]x[{n},{k}] {(bf16Output ? "bf16" : "f32")} y";
        // FP8 tensor cores sum inside an instruction with fewer than fp32's bits before promoting to fp32.
        AssertClose(name, ComputePrecision.BFloat16, Product(Fp8Activations(x)), actual, bf16Output ? 5e-3 : 1e-3);
        Report(name + " vs unquantized x", ComputePrecision.BFloat16, actual.Length, FloatComparison.RelativeL2(Product(x), actual), true, " (FP8 activations)");
    }

    /// <summary>The FP8 GEMM as the model calls it: bf16 x, into columns 16.. of a wider bf16 y whose other columns stay,
    /// accumulating (C = D = y, beta 1); against the CPU on the dequantised weight within FP8 activations' error.</summary>
    [Fact]
    public void Fp8LinearAccumulatesIntoAColumnRange()
    {
        Assert.SkipWhen(comparison.Gpu(ComputePrecision.BFloat16).ComputeCapability < 89, "no FP8 tensor cores");
        const int rows = 40, k = 96, n = 64;
        using var stored = new HostWeight(WeightFormat.Fp8E4M3, Random(n * k, 13, 0.5f), n, k);
        comparison.Compare($"Linear FP8 GEMM [{rows},{k}]x[{n},{k}] +=", ComputePrecision.BFloat16, s =>
        {
            using var weight = s.Backend.LoadLinear(stored.Weight);
            var x = s.In(Random(rows * k, 14), rows, k);
            var y = s.In(Random(rows * (n + 32), 15), rows, n + 32);
            s.Backend.Linear(x, weight, y, 16, accumulate: true);
            return s.Read(y);
        }, tolerance: 5e-2);
    }

    public static TheoryData<ComputePrecision, int, int, int> NormCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int>();
        foreach (var precision in Precisions)
        // Batches as the pipeline denoises them (up to 8 images), each element with its own modulation row.
        foreach (var (batch, length, width) in new[] { (1, 1, 16), (2, 7, 130), (2, 33, 1024), (8, 5, 96) })
            data.Add(precision, batch, length, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void ModulatedLayerNorm(ComputePrecision precision, int batch, int length, int width) =>
        comparison.Compare($"ModulatedLayerNorm [{batch},{length},{width}]", precision, s =>
        {
            var x = s.In(Random(batch * length * width, 4, 3f), batch, length, width);
            var modulation = s.In(Random(batch * 3 * width, 5), batch, 3 * width);
            var y = s.Out(batch, length, width);
            s.Backend.ModulatedLayerNorm(x, y, modulation, width, 2 * width, 1e-6f);
            return s.Read(y);
        });

    [Theory]
    [MemberData(nameof(NormCases))]
    public void AddGated(ComputePrecision precision, int batch, int length, int width) =>
        comparison.Compare($"AddGated [{batch},{length},{width}]", precision, s =>
        {
            var x = s.In(Random(batch * length * width, 6), batch, length, width);
            var y = s.In(Random(batch * length * width, 7), batch, length, width);
            var modulation = s.In(Random(batch * 2 * width, 8), batch, 2 * width);
            s.Backend.AddGated(x, y, modulation, width);
            return s.Read(x);
        });

    [Theory]
    [MemberData(nameof(NormCases))]
    public void ScaleColumns(ComputePrecision precision, int batch, int length, int width)
    {
        int rows = batch * length;
        comparison.Compare($"ScaleColumns in place [{rows},{width + 5}]", precision, s =>
        {
            var y = s.In(Random(rows * (width + 5), 13), rows, width + 5);
            s.Backend.ScaleColumns(y, 2, s.InFloat32(Random(width, 14, 2f), width), y, 2);
            return s.Read(y);
        });
        comparison.Compare($"ScaleColumns accumulating [{rows},{width}]", precision, s =>
        {
            var x = s.In(Random(rows * width, 15), rows, width);
            var y = s.In(Random(rows * (width + 3), 16), rows, width + 3);
            s.Backend.ScaleColumns(x, 0, s.InFloat32(Random(width, 17, 2f), width), y, 3, accumulate: true);
            return s.Read(y);
        });
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void RmsNormOverTheRowAndPerHead(ComputePrecision precision, int batch, int length, int width)
    {
        int rows = batch * length;
        comparison.Compare($"RmsNorm row [{rows},{width}]", precision, s =>
        {
            var x = s.In(Random(rows * width, 9, 2f), rows, width);
            var y = s.Out(rows, width);
            s.Backend.RmsNorm(x, y, s.InFloat32(Random(width, 10), width), 1e-6f);
            return s.Read(y);
        });
        comparison.Compare($"RmsNorm heads of 16 in [{rows},{3 * width}]", precision, s =>
        {
            var qkv = s.In(Random(rows * 3 * width, 11, 2f), rows, 3 * width);
            s.Backend.RmsNorm(qkv, qkv, s.InFloat32(Random(16, 12), 16), 1e-6f, width, width - width % 16);
            return s.Read(qkv);
        });
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void SiluAndSwiGlu(ComputePrecision precision, int batch, int length, int width)
    {
        int rows = batch * length;
        comparison.Compare($"Silu [{rows},{width}]", precision, s =>
        {
            var x = s.In(Random(rows * width, 13, 6f), rows, width);
            var y = s.Out(rows, width);
            s.Backend.Silu(x, y);
            return s.Read(y);
        });
        comparison.Compare($"SwiGlu [{rows},{width}] in a fused row", precision, s =>
        {
            var z = s.In(Random(rows * (2 * width + 5), 14, 4f), rows, 2 * width + 5);
            var y = s.In(Random(rows * (width + 3), 15), rows, width + 3);
            s.Backend.SwiGlu(z, 5, width, y, 3);
            return s.Read(y);
        });
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void CopiesAndGathers(ComputePrecision precision)
    {
        comparison.Compare("CopyColumns", precision, s =>
        {
            var x = s.In(Random(13 * 40, 16), 13, 40);
            var y = s.In(Random(13 * 25, 17), 13, 25);
            s.Backend.CopyColumns(x, 7, 20, y, 3);
            return s.Read(y);
        });
        comparison.Compare("Copy (a row range)", precision, s =>
        {
            var x = s.In(Random(12 * 24, 18), 12, 24);
            var y = s.Out(4, 2, 24);
            s.Backend.Copy(x.Slice0(3, 8).Reshape(4, 2, 24), y);
            return s.Read(y);
        });
        comparison.Compare("GatherRows", precision, s =>
        {
            var source = s.InFloat32(Random(11 * 6, 19), 11, 6);
            var destination = s.OutFloat32(5, 6);
            s.Backend.GatherRows(source, s.InInt64([10, 0, 3, 3, 7], 5), destination);
            return s.Read(destination);
        });
        comparison.Compare("CopyColumns Int64 ids", precision, s =>
        {
            var ids = s.InInt64([.. Enumerable.Range(0, 12 * 4).Select(i => (long)i * 7 - 30)], 12, 4);
            var copy = s.Poisoned(DType.Int64, 12, 4);
            s.Backend.CopyColumns(ids, 0, 4, copy);
            return Array.ConvertAll(s.Read<long>(copy), v => (float)v);
        }, tolerance: 0);
    }

    /// <summary>The transformer's per-sample views in a batch of 2: a stream's projection into its rows of the joint
    /// [text, image] q|k|v buffer, h = concat(txt, img) per sample, and the final layer's norm of each sample's image rows
    /// with that sample's modulation row (a [1, 2D] view, scale first as diffusers stores it).</summary>
    [Theory]
    [MemberData(nameof(Precisions))]
    public void PerSampleRowViewsOfTheJointSequence(ComputePrecision precision)
    {
        const int batch = 2, text = 5, image = 7, tokens = text + image, d = 48;
        using var stored = new HostWeight(WeightFormat.BFloat16, Random(d * d, 50, 0.5f), d, d);
        comparison.Compare("Linear per sample into the joint q|k|v rows", precision, s =>
        {
            using var weight = s.Backend.LoadLinear(stored.Weight);
            var x = s.In(Random(batch * image * d, 51), batch, image, d);
            var qkv = s.In(Random(batch * tokens * 3 * d, 52), batch, tokens, 3 * d);
            for (int b = 0; b < batch; b++) s.Backend.Linear(Rows(x, b, 0, image), weight, Rows(qkv, b, text, image), d);
            return s.Read(qkv);
        });
        comparison.Compare("CopyColumns txt and img per sample into h", precision, s =>
        {
            var txt = s.In(Random(batch * text * d, 53), batch, text, d);
            var img = s.In(Random(batch * image * d, 54), batch, image, d);
            var hidden = s.Out(batch, tokens, d);
            for (int b = 0; b < batch; b++)
            {
                s.Backend.CopyColumns(Rows(txt, b, 0, text), 0, d, Rows(hidden, b, 0, text));
                s.Backend.CopyColumns(Rows(img, b, 0, image), 0, d, Rows(hidden, b, text, image));
            }
            return s.Read(hidden);
        });
        comparison.Compare("ModulatedLayerNorm per sample (final layer)", precision, s =>
        {
            var hidden = s.In(Random(batch * tokens * d, 55, 3f), batch, tokens, d);
            var modulation = s.In(Random(batch * 2 * d, 56), batch, 2 * d);
            var normed = s.Out(batch, image, d);
            for (int b = 0; b < batch; b++)
                s.Backend.ModulatedLayerNorm(Rows(hidden, b, text, image), Rows(normed, b, 0, image), modulation.Slice0(b, 1), d, 0, 1e-6f);
            return s.Read(normed);
        });
    }

    /// <summary>Rows [start, start + count) of batch element b of t [B, L, C], as [count, C].</summary>
    private static Tensor Rows(Tensor t, int b, int start, int count) =>
        t.Reshape(t.Shape[0] * t.Shape[1], t.Shape[2]).Slice0(b * t.Shape[1] + start, count);

    [Theory]
    [MemberData(nameof(Precisions))]
    public void RopeTableAndInterleavedRope(ComputePrecision precision)
    {
        int[] axes = [16, 56, 56, 0];
        int rows = 37, pairs = axes.Sum() / 2, heads = 3;
        var ids = Enumerable.Range(0, rows * 4).Select(i => (long)((i * 37 + i / 4 * 11) % 97 - 20)).ToArray();
        comparison.Compare("RopeTable cos|sin", precision, s =>
        {
            var cos = s.OutFloat32(rows, pairs);
            var sin = s.OutFloat32(rows, pairs);
            s.Backend.RopeTable(s.InInt64(ids, rows, 4), axes, 2000, cos, sin);
            return [.. s.Read(cos), .. s.Read(sin)];
        }, tolerance: 1e-6);
        comparison.Compare("InterleavedRope k of a fused qkv, 2 batches", precision, s =>
        {
            var cos = s.InFloat32(Random(rows * pairs, 20), rows, pairs);
            var sin = s.InFloat32(Random(rows * pairs, 21), rows, pairs);
            var qkv = s.In(Random(2 * rows * 3 * heads * 2 * pairs, 22), 2 * rows, 3 * heads * 2 * pairs);
            s.Backend.InterleavedRope(qkv, heads * 2 * pairs, heads, cos, sin);
            return s.Read(qkv);
        });
    }

    [Theory]
    [MemberData(nameof(Precisions))]
    public void TimestepEmbedding(ComputePrecision precision)
    {
        double tolerance = precision == ComputePrecision.Float32 ? 1e-6 : BFloat16Tolerance;
        comparison.Compare("TimestepEmbedding [3,256] (t·1000)", precision, s =>
        {
            var embedding = s.Out(3, 256);
            s.Backend.TimestepEmbedding(s.InFloat32([0f, 0.37f, 1f], 3), 1000f, embedding);
            return s.Read(embedding);
        }, tolerance);
        // A batch of 8 images at their own timesteps, and their guidance values (dev embeds g·1000 too).
        comparison.Compare("TimestepEmbedding [8,256] (t and g·1000)", precision, s =>
        {
            var embedding = s.Out(8, 256);
            s.Backend.TimestepEmbedding(s.InFloat32([0.05f, 0.15f, 0.5f, 0.73f, 0.99f, 1.5f, 3.5f, 4f], 8), 1000f, embedding);
            return s.Read(embedding);
        }, tolerance);
    }

    public static TheoryData<ComputePrecision, int, int, int, int, int, int> AttentionCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, int, int, int>();
        foreach (var precision in Precisions)
        foreach (var (batch, heads, headDim, lq, lk, gemmFromKeys) in new[]
                 {
                     (1, 1, 8, 1, 1, 0), (2, 3, 40, 17, 33, 0), (1, 2, 128, 70, 65, 0), (2, 1, 96, 33, 130, 0),
                     // Beyond the flash kernel: through cuBLASLt, K copied dense and V transposed from the fused rows.
                     (1, 1, 512, 70, 65, 0), (2, 2, 160, 33, 33, 0),
                     // Long sequences through cuBLASLt in fp32 (bf16 head dims 64 and 128 take the tensor-core kernel): at the
                     // backend's own threshold, and small ones sent there.
                     (1, 2, 128, 1100, 1100, 0), (1, 3, 128, 70, 70, 64), (2, 2, 64, 33, 40, 1),
                     // The tensor-core kernel's 128-row blocks and 64-key tiles, both ragged (a last tile of one key).
                     (2, 3, 64, 130, 77, 0), (1, 2, 128, 200, 200, 0), (1, 1, 128, 300, 129, 0),
                     // The transformer's joint attention over a batch: fused q|k|v of FLUX.2's head dim (the tensor-core kernel
                     // in bf16), and a batch of 8.
                     (2, 2, 128, 70, 70, 0), (8, 2, 64, 21, 21, 0),
                     // No keys at all: zeros, as the CPU writes.
                     (1, 2, 64, 5, 0, 0),
                 })
            data.Add(precision, batch, heads, headDim, lq, lk, gemmFromKeys);
        return data;
    }

    /// <summary>q, k, v as column ranges of one fused [B, L, 3·H·D] buffer when the lengths agree (the model's joint
    /// attention), separate tensors otherwise; <paramref name="gemmFromKeys"/> &gt; 0 sets the key count from which the
    /// GPU takes the cuBLASLt path (0: the backend's own).</summary>
    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void Attention(ComputePrecision precision, int batch, int heads, int headDim, int lq, int lk, int gemmFromKeys)
    {
        int width = heads * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        var gpu = comparison.Gpu(precision);
        int defaultKeys = gpu.GemmAttentionMinKeys;
        if (gemmFromKeys > 0) gpu.GemmAttentionMinKeys = gemmFromKeys;
        try
        {
            CompareAttention(precision, batch, heads, headDim, lq, lk, width, scale, gemmFromKeys);
        }
        finally
        {
            gpu.GemmAttentionMinKeys = defaultKeys;
        }
    }

    /// <summary>K and V rows that start 8 bytes past a 16-byte boundary, which the tensor-core kernel's 16-byte copies
    /// cannot take: the GPU runs another kernel and still agrees with the CPU.</summary>
    [Theory]
    [MemberData(nameof(Precisions))]
    public void AttentionWithKeysOffTheTensorCoreAlignment(ComputePrecision precision)
    {
        const int batch = 1, heads = 2, headDim = 64, lq = 40, lk = 70, width = heads * headDim;
        comparison.Compare($"Attention B{batch} H{heads} D{headDim} Lq{lq} Lk{lk} K, V at column 4", precision, s =>
        {
            var q = s.In(Random(batch * lq * width, 27, 2f), batch, lq, width);
            var k = s.In(Random(batch * lk * (width + 4), 28, 2f), batch, lk, width + 4);
            var v = s.In(Random(batch * lk * (width + 4), 29, 2f), batch, lk, width + 4);
            var output = s.Out(batch, lq, width);
            s.Backend.Attention(q, 0, k, 4, v, 4, output, 0, heads, headDim, 1f / MathF.Sqrt(headDim));
            return s.Read(output);
        });
    }

    private void CompareAttention(ComputePrecision precision, int batch, int heads, int headDim, int lq, int lk, int width, float scale, int gemmFromKeys) =>
        comparison.Compare($"Attention B{batch} H{heads} D{headDim} Lq{lq} Lk{lk}{(gemmFromKeys > 0 ? $" cuBLASLt from {gemmFromKeys} keys" : "")}", precision, s =>
        {
            var output = s.Out(batch, lq, width + 4);
            if (lq == lk)
            {
                var qkv = s.In(Random(batch * lq * 3 * width, 23, 2f), batch, lq, 3 * width);
                s.Backend.Attention(qkv, 0, qkv, width, qkv, 2 * width, output, 4, heads, headDim, scale);
            }
            else
            {
                var q = s.In(Random(batch * lq * width, 24, 2f), batch, lq, width);
                var k = s.In(Random(batch * lk * width, 25, 2f), batch, lk, width);
                var v = s.In(Random(batch * lk * width, 26, 2f), batch, lk, width);
                s.Backend.Attention(q, 0, k, 0, v, 0, output, 4, heads, headDim, scale);
            }
            var all = s.Read(output);
            // The first 4 columns of each row are not written (still NaN on the GPU side): compare the written ones.
            return [.. Enumerable.Range(0, batch * lq).SelectMany(r => all.Skip(r * (width + 4) + 4).Take(width))];
        });
}
