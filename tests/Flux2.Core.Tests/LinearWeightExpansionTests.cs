using Flux2.Core;

namespace Flux2.Core.Tests;

/// <summary><see cref="LinearWeight.Expanded"/>: a backend's decoded copy of a quantized weight keeps the name and shape, drops
/// the scales it has applied, and frees its memory with the weight.</summary>
public sealed class LinearWeightExpansionTests
{
    private sealed class Memory : IDisposable
    {
        public int Disposals;
        public void Dispose() => Disposals++;
    }

    [Fact]
    public void TheCopyIsAPlainFloatWeightThatOwnsItsMemory()
    {
        var nvfp4 = new LinearWeight("blocks.0.qkv", 32, 64, WeightFormat.Nvfp4, 1, blockScales: 2, scalesSwizzled: true, scaleColumns: 4, tensorScale: 0.25f);
        var memory = new Memory();
        var copy = nvfp4.Expanded(WeightFormat.BFloat16, 3, isHostAccessible: false, memory);
        Assert.Equal(("blocks.0.qkv", 32, 64, WeightFormat.BFloat16, (nint)3), (copy.Name, copy.OutFeatures, copy.InFeatures, copy.Format, copy.Data));
        Assert.Equal((0, 0, false, 1f), ((int)copy.BlockScales, copy.ScaleColumns, copy.ScalesSwizzled, copy.TensorScale));
        Assert.False(copy.IsHostAccessible);
        Assert.Same(memory, copy.Owner);
        copy.Dispose();
        copy.Dispose();
        Assert.Equal(1, memory.Disposals);
        Assert.Contains("expands to bf16, f16 or f32, not Fp8E4M3",
            Assert.Throws<ArgumentException>(() => nvfp4.Expanded(WeightFormat.Fp8E4M3, 3, false, memory)).Message);
    }
}
