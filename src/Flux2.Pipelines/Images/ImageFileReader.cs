using StbImageSharp;

namespace Flux2.Pipelines.Images;

/// <summary>Reads PNG, JPEG, BMP, GIF (first frame), TGA, PSD and HDR files into RGB (alpha is dropped,
/// grey is expanded), through StbImageSharp.</summary>
public static class ImageFileReader
{
    public static RgbImage Read(string path)
    {
        if (Directory.Exists(path)) throw new ImageFileException($"{path}: is a directory, not an image file");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException($"{path}: cannot read the image file ({e.Message})", e);
        }
        return Decode(bytes, path);
    }

    /// <param name="name">names the image in error messages</param>
    public static RgbImage Decode(byte[] bytes, string name)
    {
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // stb reports every malformed or unsupported file through an exception of its own.
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, BMP, GIF, TGA, PSD or HDR expected): {Printable(e.Message)}", e);
        }
        if (result == null || result.Width <= 0 || result.Height <= 0 || result.Data.Length != result.Width * result.Height * 3)
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, BMP, GIF, TGA, PSD or HDR expected)");
        return new RgbImage(result.Width, result.Height, result.Data);
    }

    /// <summary>stb's messages can carry raw bytes of the file (NULs included); keep what a terminal can show.</summary>
    private static string Printable(string message) => new string(message.Where(c => !char.IsControl(c)).ToArray()).Trim();
}
