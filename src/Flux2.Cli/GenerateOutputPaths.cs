namespace Flux2.Cli;

/// <summary>
/// Output file names of <c>flux2 generate</c>: the pattern may hold <c>{n}</c> (image number, from 1) and <c>{seed}</c>.
/// Without <c>{n}</c>, one image is written to the pattern itself and several to NAME-1.EXT, NAME-2.EXT, ...
/// The default pattern is <c>flux2-{seed}.png</c>.
/// </summary>
public static class GenerateOutputPaths
{
    public const string DefaultPattern = "flux2-{seed}.png";

    public static IReadOnlyList<string> Expand(string pattern, IReadOnlyList<ulong> seeds)
    {
        if (!pattern.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"--output: '{pattern}' must end in .png (the only format written)");
        var paths = new string[seeds.Count];
        for (int i = 0; i < seeds.Count; i++)
        {
            var path = pattern;
            if (!path.Contains("{n}") && seeds.Count > 1)
                path = Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{{n}}{Path.GetExtension(path)}");
            paths[i] = path.Replace("{n}", (i + 1).ToString()).Replace("{seed}", seeds[i].ToString());
        }
        if (paths.Distinct().Count() != paths.Length)
            throw new CliException($"--output: '{pattern}' gives the same file name to several images; use {{n}} or {{seed}}");
        return paths;
    }
}
