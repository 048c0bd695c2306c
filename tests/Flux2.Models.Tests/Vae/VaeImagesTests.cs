using Flux2.Core;
using Flux2.Cpu;
using Flux2.Models.Vae;

namespace Flux2.Models.Tests.Vae;

public sealed class VaeImagesTests
{
    private static readonly CpuBackend Be = VaeGolden.Cpu;

    [Fact]
    public void Rgb_bytes_convert_exactly_as_the_golden_preprocessing()
    {
        using var golden = new VaeGolden();
        var rgb = golden.Io.Get("inputs.image_uint8").ToByteArray();
        using var x = VaeImages.FromRgb(Be, rgb, 64, 64);
        Assert.Equal(golden.Io.Get("inputs.image").ToFloat32Array(), x.ToArray<float>());
    }

    [Fact]
    public void Quantisation_rounds_half_to_even_and_clamps()
    {
        // x/2 + 0.5 = k/255 + 0.5/255 lies exactly between two codes only in exact arithmetic; use values whose
        // fp32 products are exact: 0.5·255 = 127.5 → 128 (even), and values outside [-1, 1] clamp.
        using var decoded = Tensor.FromArray([0f, -1f, 1f, -3f, 3f, float.NaN], 1, 3, 1, 2);
        using var rgb = VaeImages.ToRgb(Be, decoded);
        Assert.Equal([1, 1, 2, 3], rgb.Shape);
        // Pixel 0 = (x[0,0], x[1,0], x[2,0]) = (0, 1, 3); pixel 1 = (-1, -3, NaN).
        Assert.Equal(new byte[] { 128, 255, 255, 0, 0, 0 }, rgb.ToArray<byte>());
        using var unit = VaeImages.ToUnitFloat(Be, decoded);
        Assert.Equal([0.5f, 1f, 1f, 0f, 0f], unit.ToArray<float>()[..5]);
    }

    [Fact]
    public void Rounding_is_not_truncation()
    {
        // 0.998·255 = 254.49 → 254 either way, but x = 0.9961 gives 254.50... → 255 by rounding, 254 by truncation.
        using var decoded = Tensor.FromArray([0.9961f, 0.9961f, 0.9961f], 1, 3, 1, 1);
        using var rgb = VaeImages.ToRgb(Be, decoded);
        Assert.Equal(new byte[] { 255, 255, 255 }, rgb.ToArray<byte>());
    }

    [Theory]
    [InlineData(64, 60)]
    [InlineData(8, 16)]
    [InlineData(0, 16)]
    [InlineData(100, 100)]
    public void Sizes_that_are_not_multiples_of_16_are_refused(int height, int width)
    {
        var e = Assert.Throws<VaeException>(() => VaeImages.FromRgb(Be, new byte[height * width * 3], height, width));
        Assert.Contains($"{width}x{height}", e.Message);
    }

    [Fact]
    public void Non_square_images_are_fine()
    {
        using var x = VaeImages.FromRgb(Be, new byte[32 * 48 * 3], 32, 48);
        Assert.Equal([1, 3, 32, 48], x.Shape);
        Assert.All(x.ToArray<float>(), v => Assert.Equal(-1f, v));
        Assert.Throws<VaeException>(() => VaeImages.FromRgb(Be, new byte[10], 32, 48));
    }
}
