using Flux2.Core.Checkpoints;

namespace Flux2.Hub;

/// <summary>
/// Turns a Hub model id into a local diffusers folder: the snapshot of the revision's commit in the Hugging Face cache,
/// with every file the pipeline reads (<see cref="PipelineFiles"/>) downloaded into it when missing; or a path in a
/// repository into the cached file or component folder (<see cref="ResolvePathAsync"/>). Online, one listing
/// request resolves the revision to a commit and names the repository's files; every file then comes from that commit,
/// and refs/{revision} is written once all are there. With <see cref="HubSettings.Offline"/>, or when the Hub cannot be
/// reached, only the cache is read (refs/{revision} → snapshots/{commit}), as the Python tools do.
/// </summary>
public sealed class HubResolver(HubSettings settings)
{
    /// <summary>Called as each file's bytes arrive.</summary>
    public Action<HubTransfer>? Progress { get; init; }

    /// <summary>Called with what the user should know but is no error (the Hub was unreachable and the cache was used).</summary>
    public Action<string>? Notice { get; init; }

    /// <exception cref="HubException">the model is neither cached nor downloadable (the message says why and what to do)</exception>
    public Task<HubSnapshot> ResolveAsync(HubModelId id, CancellationToken cancellation = default) =>
        FromHubOrCacheAsync(id, (cache, why) => CachedAsync(id, cache, why), cached => $"the cached snapshot {cached.Commit} of {id}",
            async (client, cache, revision) =>
            {
                int downloaded = 0;
                var download = Downloader(client, cache, id, revision, () => downloaded++, cancellation);
                await WhileConnectedAsync(id, () => CompleteAsync(revision.Files, $"{id} (commit {revision.Commit})", download));
                return new HubSnapshot(id, revision.Commit, cache.SnapshotFolder(revision.Commit), downloaded);
            }, cancellation);

    /// <summary>The local path of one file of a repository, or of one component folder (what loading reads of it: its
    /// metadata files and the weights it picks, shards included): the cached copy of the revision's commit, downloaded
    /// first when missing; offline or with the Hub unreachable, the cached copy only.</summary>
    /// <exception cref="HubException">the path is neither cached nor downloadable (the message says why and what to do)</exception>
    public Task<string> ResolvePathAsync(HubPathReference reference, CancellationToken cancellation = default) =>
        FromHubOrCacheAsync(reference.Model, (cache, why) => CachedPathAsync(reference, cache, why), _ => $"the cached {reference}",
            async (client, cache, revision) =>
            {
                var id = reference.Model;
                var where = $"{id} (commit {revision.Commit})";
                var wanted = revision.Files.Contains(reference.Path) ? [reference.Path] : FolderFiles(revision.Files, reference.Path, where);
                if (wanted.Count == 0)
                {
                    var weights = revision.Files.Where(f => f.EndsWith(".gguf", StringComparison.Ordinal) || f.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
                    throw new HubException($"{where} has no file or component folder {reference.Path}" + (weights.Count == 0 ? ""
                        : $"; its weights files: {string.Join(", ", weights.Take(12))}{(weights.Count > 12 ? $" and {weights.Count - 12} more" : "")}"));
                }
                await WhileConnectedAsync(id, () => EnsureAllAsync(wanted, Downloader(client, cache, id, revision, null, cancellation)));
                return cache.SnapshotFile(revision.Commit, reference.Path);
            }, cancellation);

    /// <summary>Online: lists the revision, runs <paramref name="online"/> and records refs/{revision}. Offline, or when the Hub
    /// cannot be reached (with a note naming what <paramref name="describe"/> says was used): <paramref name="cached"/>, given
    /// why the network is not used.</summary>
    private async Task<T> FromHubOrCacheAsync<T>(HubModelId id, Func<HubRepoCache, string, Task<T>> cached, Func<T, string> describe,
        Func<HubClient, HubRepoCache, HubRevision, Task<T>> online, CancellationToken cancellation)
    {
        var cache = new HubRepoCache(settings.CacheDirectory, id.Repo);
        if (settings.Offline) return await cached(cache, "HF_HUB_OFFLINE is set");

        using var client = new HubClient(settings);
        HubRevision revision;
        try
        {
            revision = await client.GetRevisionAsync(id, cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            var reason = $"cannot reach {settings.Endpoint} ({e.Message})";
            var result = await cached(cache, reason);
            Notice?.Invoke($"{reason}; using {describe(result)}");
            return result;
        }
        var value = await online(client, cache, revision);
        if (!id.RevisionIsCommit) cache.WriteRef(id.Revision, revision.Commit);
        return value;
    }

    /// <summary>What loading reads of the component folder <paramref name="folder"/> among <paramref name="files"/>; empty when
    /// it is no folder of them.</summary>
    private static IReadOnlyList<string> FolderFiles(IReadOnlyCollection<string> files, string folder, string where)
    {
        var (metadata, weights) = PipelineFiles.OfFolder(files, folder, where);
        return weights == null ? metadata : [.. metadata, weights];
    }

    /// <summary>Gives a path of <paramref name="revision"/> its snapshot file, downloading it when missing (a shard an index names
    /// must be in the repository); <paramref name="fetched"/> counts the downloads.</summary>
    private Func<string, Task<string>> Downloader(HubClient client, HubRepoCache cache, HubModelId id, HubRevision revision, Action? fetched,
        CancellationToken cancellation) => async path =>
    {
        if (!revision.Files.Contains(path) && !HubRepoCache.HasContents(cache.SnapshotFile(revision.Commit, path)))
            throw new HubException($"{id} (commit {revision.Commit}): {path} is needed (its shard index names it) but the repository does not have it");
        var (local, wasFetched) = await FetchAsync(client, cache, id, revision.Commit, path, cancellation);
        if (wasFetched) fetched?.Invoke();
        return local;
    };

    /// <summary>The snapshot path of <paramref name="path"/> at <paramref name="commit"/>, its blob downloaded when missing;
    /// whether anything was fetched.</summary>
    private async Task<(string Local, bool Fetched)> FetchAsync(HubClient client, HubRepoCache cache, HubModelId id, string commit, string path,
        CancellationToken cancellation)
    {
        var local = cache.SnapshotFile(commit, path);
        if (HubRepoCache.HasContents(local)) return (local, false);
        var file = await client.GetFileAsync(id, commit, path, cancellation);
        if (!HubRepoCache.HasContents(cache.BlobPath(file.Etag)))
            await HubBlobDownload.DownloadAsync(client, cache, id, file, done => Progress?.Invoke(new HubTransfer(path, done, file.Size)), cancellation);
        cache.Link(commit, path, file.Etag);
        return (local, true);
    }

    /// <summary>Runs the downloads, a lost connection reported as such.</summary>
    private async Task WhileConnectedAsync(HubModelId id, Func<Task> transfer)
    {
        try
        {
            await transfer();
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            throw new HubException($"{id}: lost the connection to {settings.Endpoint} ({e.Message}); run the command again to resume", e);
        }
    }

    /// <summary>The cached copy of <paramref name="reference"/>, a file or a folder whose files loading reads are all there;
    /// <paramref name="why"/> says why the network is not used.</summary>
    private static async Task<string> CachedPathAsync(HubPathReference reference, HubRepoCache cache, string why)
    {
        var id = reference.Model;
        var commit = id.RevisionIsCommit ? id.Revision : cache.ReadRef(id.Revision);
        HubException Missing(string what) => new(
            $"{why}, and {reference} is not in the Hugging Face cache ({what} in {cache.Folder}); download it while online (flux2 download {reference})");
        if (commit == null) throw Missing($"no refs/{id.Revision}");
        var local = cache.SnapshotFile(commit, reference.Path);
        var wanted = File.Exists(local) ? [reference.Path]
            : Directory.Exists(local) ? FolderFiles(cache.SnapshotFiles(commit), reference.Path, $"{id} (cached commit {commit})") : [];
        if (wanted.Count == 0) throw Missing($"no snapshots/{commit}/{reference.Path}");
        await EnsureAllAsync(wanted, path =>
        {
            var file = cache.SnapshotFile(commit, path);
            return HubRepoCache.HasContents(file) ? Task.FromResult(file) : throw Missing($"no snapshots/{commit}/{path}");
        });
        return local;
    }

    /// <summary>The cached snapshot of <paramref name="id"/>, which must hold every file the pipeline reads;
    /// <paramref name="why"/> says why the network is not used.</summary>
    private async Task<HubSnapshot> CachedAsync(HubModelId id, HubRepoCache cache, string why)
    {
        var commit = id.RevisionIsCommit ? id.Revision : cache.ReadRef(id.Revision);
        var files = commit == null ? [] : cache.SnapshotFiles(commit);
        if (commit == null || files.Count == 0)
            throw new HubException($"{why}, and {id} is not in the Hugging Face cache (no {(commit == null ? $"refs/{id.Revision}" : $"snapshots/{commit}")} " +
                $"in {cache.Folder}); download it while online (flux2 download {id})");
        Task<string> Present(string path)
        {
            var local = cache.SnapshotFile(commit, path);
            return HubRepoCache.HasContents(local) ? Task.FromResult(local)
                : throw new HubException($"{why}, and the cached snapshot {commit} of {id} lacks {path}; complete it while online (flux2 download {id})");
        }
        await CompleteAsync(files, $"{id} (cached commit {commit})", Present);
        return new HubSnapshot(id, commit, cache.SnapshotFolder(commit), 0);
    }

    /// <summary>Makes sure every file the pipeline reads is there, <paramref name="ensure"/> giving each one's local path.</summary>
    private static async Task CompleteAsync(IReadOnlyList<string> files, string where, Func<string, Task<string>> ensure)
    {
        if (!files.Contains(ModelIndex.FileName))
            throw new HubException($"{where}: there is no {ModelIndex.FileName}, so it is not a diffusers repository");
        var index = ModelIndex.Read(await ensure(ModelIndex.FileName));
        await EnsureAllAsync(PipelineFiles.OfComponents(files, index, where), ensure);
    }

    /// <summary><paramref name="ensure"/> for every path, and for the shards a shard index among them names.</summary>
    private static async Task EnsureAllAsync(IEnumerable<string> paths, Func<string, Task<string>> ensure)
    {
        foreach (var path in paths)
        {
            var local = await ensure(path);
            if (path.EndsWith(".safetensors.index.json", StringComparison.Ordinal))
                foreach (var shard in PipelineFiles.Shards(path, local)) await ensure(shard);
        }
    }
}
