using Flux2.Core;
using Flux2.Models.Vae;
using Flux2.Pipelines.Images;

namespace Flux2.Pipelines;

/// <summary>Reference images → transformer tokens (spec §9.7): size policy and center crop (<see cref="ReferenceImageGeometry"/>),
/// [−1, 1] pixels, VAE mean → patchify → normalise → pack; reference k gets ids (10 + 10k, y, x, 0).</summary>
public static class ReferenceEncoder
{
    /// <summary>Applies the size checks, downscaling and cropping to every image (cheap; run before any model work).</summary>
    public static IReadOnlyList<RgbImage> Prepare(IReadOnlyList<ReferenceImage> images, ReferenceCapPolicy policy)
    {
        long cap = policy.CapPixels(images.Count);
        return images.Select(r => ReferenceImageGeometry.Prepare(r.Image, r.Name, cap)).ToArray();
    }

    /// <param name="prepared">images from <see cref="Prepare"/>; at least one</param>
    /// <returns>the tokens on the VAE's backend</returns>
    public static ReferenceTokens Encode(AutoencoderKLFlux2 vae, IReadOnlyList<RgbImage> prepared)
    {
        var backend = vae.Backend;
        var parts = new List<Tensor>();
        try
        {
            var ids = new List<long>();
            for (int k = 0; k < prepared.Count; k++)
            {
                var image = prepared[k];
                using var pixels = VaeImages.FromRgb(backend, image.Pixels, image.Height, image.Width);
                parts.Add(vae.EncodeToTokens(pixels));
                ids.AddRange(LatentIds.Image(image.Height / 16, image.Width / 16, LatentIds.ReferenceTime(k)));
            }
            int channels = parts[0].Shape[2], total = parts.Sum(p => p.Shape[1]);
            var tokens = backend.Allocate(DType.Float32, 1, total, channels);
            var rows = tokens.Reshape(total, channels);
            int offset = 0;
            foreach (var part in parts)
            {
                backend.Copy(part, rows.Slice0(offset, part.Shape[1]));
                offset += part.Shape[1];
            }
            return new ReferenceTokens(tokens, ids.ToArray(), prepared.Select(i => (i.Width, i.Height)).ToArray());
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
