using System.Text;
using Flux2.Core.Files;

namespace Flux2.Hub;

/// <summary>
/// The cache folder of one model repository, laid out as huggingface_hub lays it out (<c>file_download.py</c>), so that
/// either tool finds what the other downloaded: <c>models--{org}--{name}/refs/{revision}</c> holds the commit a branch or
/// tag pointed at, <c>blobs/{etag}</c> the contents of each file under its Hub checksum, and <c>snapshots/{commit}/{path}</c>
/// a relative symbolic link into blobs/ per file of that commit.
/// </summary>
public sealed class HubRepoCache(string cacheDirectory, string repo)
{
    /// <summary>models--org--name under the cache directory.</summary>
    public string Folder { get; } = Path.Combine(cacheDirectory, "models--" + repo.Replace("/", "--", StringComparison.Ordinal));

    public string SnapshotFolder(string commit) => Path.Combine(Folder, "snapshots", commit);

    /// <param name="path">a repository path with '/' separators, e.g. "transformer/config.json"</param>
    public string SnapshotFile(string commit, string path) => Path.Combine(SnapshotFolder(commit), path.Replace('/', Path.DirectorySeparatorChar));

    public string BlobPath(string etag) => Path.Combine(Folder, "blobs", etag);

    /// <summary>Where a blob is written while it downloads; an interrupted download resumes from it.</summary>
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";

    /// <summary>The commit <paramref name="revision"/> resolved to when it was last downloaded; null when the cache has no ref for it.</summary>
    public string? ReadRef(string revision)
    {
        var path = RefPath(revision);
        if (!File.Exists(path)) return null;
        var commit = Encoding.UTF8.GetString(RegularFile.ReadAllBytes(path, 1024, problem => new HubException($"{path} {problem}"))).Trim();
        return HubModelId.IsCommit(commit) ? commit : throw new HubException($"{path}: holds '{commit}', not a commit hash");
    }

    /// <summary>Records that <paramref name="revision"/> is <paramref name="commit"/> (replacing the file whole).</summary>
    public void WriteRef(string revision, string commit)
    {
        var path = RefPath(revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, commit);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Makes snapshots/{commit}/{path} a relative link to the blob <paramref name="etag"/> (replacing any link there).</summary>
    public void Link(string commit, string path, string etag)
    {
        var file = SnapshotFile(commit, path);
        var folder = Path.GetDirectoryName(file)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.tmp");
        File.CreateSymbolicLink(temporary, Path.GetRelativePath(folder, BlobPath(etag)));
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>The files of a cached snapshot whose contents are there (links into blobs/ followed), as repository paths.</summary>
    public IReadOnlyList<string> SnapshotFiles(string commit)
    {
        var folder = SnapshotFolder(commit);
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(HasContents)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Whether <paramref name="path"/> is a file, or a link that leads to one (File.Exists is true for a link whose blob is gone).</summary>
    public static bool HasContents(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists) return false;
        return file.LinkTarget == null || file.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true } target && target is FileInfo;
    }

    private string RefPath(string revision) => Path.Combine(Folder, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
}
