using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>
/// Reference images as requests upload them: decoded, then at once brought to the size the pipeline encodes
/// (<see cref="ReferenceImageGeometry"/> at the server's <see cref="Cap"/>), so that a request waiting in the queue holds
/// at most a megapixel per reference rather than the up to 8192² pixels of its upload. The pipeline's own preparation of
/// an image so prepared changes nothing (it is within the cap and cropped to multiples of 16). One instance per server:
/// its <see cref="Gate"/> bounds the decodes running at once, and with them the full-size bitmaps held.
/// </summary>
/// <param name="limits">what one image may cost before it is decoded</param>
/// <param name="maxImages">the most reference images one request may hold</param>
/// <param name="concurrentDecodes">decodes at once, at most</param>
public sealed class ReferenceUploads(ImageDecodeLimits limits, int maxImages, int concurrentDecodes)
{
    /// <summary>The downscaling policy of every request the server runs: diffusers', whose cap (1024² pixels) is the same
    /// for any number of references.</summary>
    public const ReferenceCapPolicy Cap = ReferenceCapPolicy.Diffusers;

    public ImageDecodeLimits Limits => limits;

    public int MaxImages => maxImages;

    public DecodeGate Gate { get; } = new(concurrentDecodes);

    /// <summary><see cref="Decode"/> with this server's limits, once <see cref="Gate"/> has a place.</summary>
    /// <param name="cancellation">the request's: stops the wait for a place</param>
    public Task<ReferenceImage> DecodeAsync(byte[] bytes, string param, string name, string described, CancellationToken cancellation) =>
        Gate.RunAsync(() => Decode(bytes, param, name, described, limits), cancellation);

    /// <param name="param">the field or form part the image came in, named by a refusal</param>
    /// <param name="name">what the image is called in the generation's metadata (its file name, or <paramref name="param"/>)</param>
    /// <param name="described">the image as error messages name it</param>
    /// <exception cref="RequestException">400 naming <paramref name="param"/>: not an image, over the limits, or a size the
    /// pipeline refuses (a side under 64 pixels, an aspect ratio over 8)</exception>
    public static ReferenceImage Decode(byte[] bytes, string param, string name, string described, ImageDecodeLimits limits)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var image = ImageFileReader.Decode(bytes, described, limits);
            return new ReferenceImage(name, ReferenceImageGeometry.Prepare(image, described, Cap.CapPixels(referenceCount: 1)));
        }
        catch (ImageFileException e)
        {
            throw new RequestException(400, param, e.Message);
        }
        finally
        {
            // The full-size bitmap is garbage now, also when the image was refused. The runtime collects large objects
            // rarely, so without a collection here the next decodes take fresh memory instead of reusing this, and bounding
            // the decodes at once would bound nothing (16 serial 8192² decodes grew the server by 1.7 GB without it, 0.6 GB
            // with it).
            if (GC.GetAllocatedBytesForCurrentThread() - allocated >= CollectAfterBytes)
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
        }
    }

    /// <summary>A decode that allocated this much is collected at once (a 2048×2048 image is 12 MiB).</summary>
    private const long CollectAfterBytes = 32L << 20;
}
