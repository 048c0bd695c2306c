namespace Flux2.Core.Files;

/// <summary>The per-user folders this tool caches work in (compiled kernels, prompt embeddings), and the writes into them:
/// a cache only saves time, so a file is either there whole or not at all, and a folder that cannot be written is skipped.</summary>
public static class CacheFolder
{
    /// <summary><paramref name="variable"/>'s value when it is set (empty: no cache), else $XDG_CACHE_HOME/flux2/NAME, else
    /// ~/.cache/flux2/NAME, else null.</summary>
    public static string? Default(Func<string, string?> environment, string variable, string name)
    {
        if (environment(variable) is { } explicitFolder) return explicitFolder;
        if (environment("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "flux2", name);
        if (environment("HOME") is { Length: > 0 } home) return Path.Combine(home, ".cache", "flux2", name);
        return null;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> (creating its folder) under a temporary name moved
    /// into place, so no reader sees half a file. False when the folder cannot be written; a temporary file written before
    /// the failure is deleted.</summary>
    public static bool TryWrite(string path, byte[] bytes)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            return false;
        }
    }

    /// <summary>Deletes <paramref name="path"/> if it can (a file another process holds or a read-only folder keeps it).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left in place; the next write of the same name replaces it.
        }
    }
}
