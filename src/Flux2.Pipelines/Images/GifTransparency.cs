namespace Flux2.Pipelines.Images;

/// <summary>
/// A GIF's transparent colour as the reference pipelines see it: PIL's <c>convert("RGB")</c> gives a transparent pixel its
/// palette colour, where stb leaves it as the black it starts the image with. Clearing the transparency flag of the
/// graphic control extensions before the first image (the frame that is decoded) makes stb give the palette colour too.
/// </summary>
internal static class GifTransparency
{
    private const byte GraphicControl = 0xF9;

    /// <summary><paramref name="gif"/>, or a copy of it whose first image has no transparent colour.</summary>
    public static byte[] Cleared(byte[] gif)
    {
        byte[]? copy = null;
        foreach (int at in GifLayout.BlocksBeforeFirstImage(gif).Extensions)
            // A graphic control block is 4 bytes (flags, delay, index); bit 0 of the flags says the index is transparent.
            if (at + 3 < gif.Length && gif[at + 1] == GraphicControl && gif[at + 2] == 4 && (gif[at + 3] & 1) != 0)
                (copy ??= (byte[])gif.Clone())[at + 3] &= 0xFE;
        return copy ?? gif;
    }
}
