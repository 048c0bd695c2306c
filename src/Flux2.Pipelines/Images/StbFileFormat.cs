namespace Flux2.Pipelines.Images;

/// <summary>The formats <see cref="ImageFileReader"/> decodes through StbImageSharp.</summary>
internal enum StbFileFormat { Png, Bmp, Gif, Psd, Hdr, Tga }

internal static class StbFileFormats
{
    /// <summary>The format <paramref name="file"/> starts like, by the signatures stb tests for; TGA, which has none, is what
    /// is left.</summary>
    public static StbFileFormat Sniff(ReadOnlySpan<byte> file) =>
        PngChunks.IsPng(file) ? StbFileFormat.Png
        : file.StartsWith("BM"u8) ? StbFileFormat.Bmp
        : file.StartsWith("GIF87a"u8) || file.StartsWith("GIF89a"u8) ? StbFileFormat.Gif
        : file.StartsWith("8BPS"u8) ? StbFileFormat.Psd
        : file.StartsWith("#?RADIANCE\n"u8) || file.StartsWith("#?RGBE\n"u8) ? StbFileFormat.Hdr
        : StbFileFormat.Tga;

    /// <summary>The first bytes of <paramref name="file"/> as stb reads a header: those past the end of a short file read as
    /// zeros.</summary>
    public static void CopyHeader(ReadOnlySpan<byte> file, Span<byte> header)
    {
        header.Clear();
        file[..Math.Min(file.Length, header.Length)].CopyTo(header);
    }

    /// <summary>The format's name as messages give it: "BMP", "TGA".</summary>
    public static string Name(this StbFileFormat format) => format.ToString().ToUpperInvariant();
}
