using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>
/// Reference images as requests upload them: decoded, then at once brought to the size the pipeline encodes
/// (<see cref="ReferenceImageGeometry"/> at the server's <see cref="Cap"/>), so that a request waiting in the queue holds
/// at most a megapixel per reference rather than the up to 8192² pixels of its upload. The pipeline's own preparation of
/// an image so prepared changes nothing (it is within the cap and cropped to multiples of 16).
/// </summary>
public static class ReferenceUploads
{
    /// <summary>The downscaling policy of every request the server runs: diffusers', whose cap (1024² pixels) is the same
    /// for any number of references.</summary>
    public const ReferenceCapPolicy Cap = ReferenceCapPolicy.Diffusers;

    /// <param name="param">the field or form part the image came in, named by a refusal</param>
    /// <param name="name">what the image is called in the generation's metadata (its file name, or <paramref name="param"/>)</param>
    /// <param name="described">the image as error messages name it</param>
    /// <exception cref="RequestException">400 naming <paramref name="param"/>: not an image, over the limits, or a size the
    /// pipeline refuses (a side under 64 pixels, an aspect ratio over 8)</exception>
    public static ReferenceImage Decode(byte[] bytes, string param, string name, string described, ImageDecodeLimits limits)
    {
        try
        {
            var image = ImageFileReader.Decode(bytes, described, limits);
            return new ReferenceImage(name, ReferenceImageGeometry.Prepare(image, described, Cap.CapPixels(referenceCount: 1)));
        }
        catch (ImageFileException e)
        {
            throw new RequestException(400, param, e.Message);
        }
    }
}
