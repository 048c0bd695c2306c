using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Flux2.Tests;

/// <summary>
/// Locates the test fixtures. The golden reference data and the real Qwen3 tokenizer are committed as one Brotli-packed
/// tar (tests/fixtures/fixtures.tar.br, made by tools/PackBrotliTar.cs), extracted on first use into a folder of the
/// temporary directory named by the archive's hash, so every test process and later run reuses it; the published
/// configs are plain files under tests/fixtures/configs. Paths come from this source file's location at compile time, or from
/// the working directory.
/// </summary>
public static class Fixtures
{
    private static readonly string Source = FindSource();
    private static readonly Lazy<string> Extracted = new(Extract);

    public static string Golden(string fileName) => Path.Combine(Extracted.Value, "golden", fileName);

    /// <summary>A fixture path: a plain file under tests/fixtures when there is one, else a file of the archive.</summary>
    public static string File(params string[] parts)
    {
        var plain = Path.Combine([Source, .. parts]);
        return System.IO.File.Exists(plain) || Directory.Exists(plain) ? plain : Path.Combine([Extracted.Value, .. parts]);
    }

    /// <summary>Beside this source file where it was compiled; else tests/fixtures under the working directory (a test
    /// executable built elsewhere and run from a copy of the repository's root, as the device check does).</summary>
    private static string FindSource([CallerFilePath] string sourceFile = "")
    {
        var compiled = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(sourceFile)!, "..", "fixtures"));
        var working = Path.GetFullPath(Path.Combine("tests", "fixtures"));
        foreach (var root in new[] { compiled, working })
            if (System.IO.File.Exists(Path.Combine(root, "fixtures.tar.br"))) return root;
        throw new FileNotFoundException($"test fixtures not found at {compiled} or {working}");
    }

    /// <summary>Extracts the archive once per content: into a private folder first, then renamed into place, so test processes
    /// running side by side never see a half-written tree (the loser of a race keeps the winner's copy).</summary>
    private static string Extract()
    {
        var archive = Path.Combine(Source, "fixtures.tar.br");
        string hash;
        using (var stream = System.IO.File.OpenRead(archive)) hash = Convert.ToHexString(SHA256.HashData(stream))[..16];
        var target = Path.Combine(Path.GetTempPath(), "flux2-test-fixtures", hash);
        if (Directory.Exists(target)) return target;
        var staging = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        using (var compressed = System.IO.File.OpenRead(archive))
        using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
            TarFile.ExtractToDirectory(tar, staging, overwriteFiles: false);
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            Directory.Delete(staging, recursive: true);
        }
        return target;
    }
}
