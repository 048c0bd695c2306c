using Flux2.Pipelines.Images;

namespace Flux2.Cli;

/// <summary>
/// Output files of <c>flux2 generate</c>. The pattern's extension picks the format (.png, .jpg / .jpeg, .webp) and may
/// hold <c>{n}</c> (image number, from 1) and <c>{seed}</c>. Without <c>{n}</c>, one image is written to the pattern
/// itself and several to NAME-1.EXT, NAME-2.EXT, ... The default pattern is <c>flux2-{seed}.png</c>.
/// </summary>
public static class GenerateOutputPaths
{
    public const string DefaultPattern = "flux2-{seed}.png";

    /// <summary>The JPEG and WebP quality without --quality: high, at about a third of 100's file size.</summary>
    public const int DefaultQuality = 90;

    /// <summary>The format <paramref name="pattern"/>'s extension names, at <paramref name="quality"/> (--quality, for JPEG
    /// and WebP only).</summary>
    public static ImageEncoding Encoding(string pattern, int? quality)
    {
        var format = ImageEncoding.FormatOf(pattern)
            ?? throw new CliException($"option --output: '{pattern}' must end in .png, .jpg, .jpeg or .webp (the formats written)");
        if (format == ImageFormat.Png && quality != null)
            throw new CliException($"option --quality: applies to .jpg and .webp outputs; '{pattern}' is a PNG, which is lossless");
        return new ImageEncoding(format, quality ?? DefaultQuality);
    }

    public static IReadOnlyList<string> Expand(string pattern, IReadOnlyList<ulong> seeds)
    {
        var paths = new string[seeds.Count];
        for (int i = 0; i < seeds.Count; i++)
        {
            var path = pattern;
            if (!path.Contains("{n}") && seeds.Count > 1)
                path = Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{{n}}{Path.GetExtension(path)}");
            paths[i] = path.Replace("{n}", (i + 1).ToString()).Replace("{seed}", seeds[i].ToString());
        }
        if (paths.Distinct().Count() != paths.Length)
            throw new CliException($"option --output: '{pattern}' gives the same file name to several images; use {{n}} or {{seed}}");
        return paths;
    }
}
