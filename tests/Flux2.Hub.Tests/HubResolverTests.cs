using System.Globalization;
using System.Text.RegularExpressions;
using Flux2.Tests;

namespace Flux2.Hub.Tests;

/// <summary>Downloads from a Hub served in-process on loopback into a temporary cache, checked against the layout the Python
/// tools write and read.</summary>
public sealed class HubResolverTests : IAsyncLifetime
{
    private FakeHub _hub = null!;
    private readonly TempDirectory _dir = new();
    private readonly HubModelId _id = new(SampleRepository.Repo, "main");
    private Dictionary<string, byte[]> _files = null!;
    private string _commit = null!;

    private string Cache => _dir.File("hub");
    private HubRepoCache RepoCache => new(Cache, SampleRepository.Repo);

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _files = SampleRepository.Files();
        _commit = _hub.AddCommit(SampleRepository.Repo, _files);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _dir.Dispose();
    }

    private Task<HubSnapshot> Resolve(HubSettings? settings = null, HubModelId? id = null, List<HubTransfer>? progress = null, List<string>? notices = null) =>
        new HubResolver(settings ?? _hub.Settings(Cache)) { Progress = progress == null ? null : progress.Add, Notice = notices == null ? null : notices.Add }
            .ResolveAsync(id ?? _id);

    /// <summary>Every regular file and link under the cache, relative, with '/'.</summary>
    private List<string> CacheEntries() =>
        Directory.Exists(Cache)
            ? Directory.EnumerateFiles(Cache, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Cache, f).Replace('\\', '/')).Order().ToList()
            : [];

    [Fact]
    public async Task DownloadsExactlyThePipelineFilesInThePythonCacheLayout()
    {
        var progress = new List<HubTransfer>();
        var snapshot = await Resolve(progress: progress);

        var repoFolder = Path.Combine(Cache, "models--black-forest-labs--FLUX.2-klein-4B");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", _commit), snapshot.Folder);
        Assert.Equal(_commit, snapshot.Commit);
        Assert.Equal(SampleRepository.PipelineFiles.Length, snapshot.DownloadedFiles);
        Assert.Equal(_commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        Assert.Equal(SampleRepository.PipelineFiles.Order(StringComparer.Ordinal), RepoCache.SnapshotFiles(_commit));
        foreach (var path in SampleRepository.PipelineFiles)
        {
            // A relative link into blobs/, named by the sha256 (LFS) or the git sha1 (git-stored), as huggingface_hub makes it.
            var link = new FileInfo(RepoCache.SnapshotFile(_commit, path));
            var blob = path.EndsWith(".safetensors") ? FakeHub.Sha256(_files[path]) : FakeHub.GitSha1(_files[path]);
            var depth = string.Concat(Enumerable.Repeat("../", path.Split('/').Length + 1));
            Assert.Equal(depth + "blobs/" + blob, link.LinkTarget);
            Assert.Equal(_files[path], File.ReadAllBytes(link.FullName));
        }
        Assert.DoesNotContain(CacheEntries(), e => e.EndsWith(".incomplete"));

        // Nothing else was asked for: not the BFL single file, the fp16 variant, the .bin copy or the README.
        var asked = _hub.Requests.Select(r => r.Path).ToList();
        foreach (var extra in SampleRepository.Extras) Assert.DoesNotContain(asked, p => p.EndsWith("/" + extra));
        Assert.Contains(progress, p => p.Path == SampleRepository.Shard2 && p.Done == p.Total && p.Total == _files[SampleRepository.Shard2].Length);

        // Everything is cached now: one listing request, no download.
        int before = _hub.Requests.Count;
        var again = await Resolve();
        Assert.Equal(0, again.DownloadedFiles);
        Assert.Single(_hub.Requests.Skip(before));
    }

    [Fact]
    public async Task AnInterruptedTransferResumesWithARangeRequest()
    {
        _hub.CutAfter[SampleRepository.Shard2] = 1_000_000;
        var e = await Assert.ThrowsAsync<HubException>(() => Resolve());
        Assert.Contains(SampleRepository.Shard2, e.Message);
        // The connection is reset after 1,000,000 bytes; a reset may drop bytes still in flight, so the client keeps what came.
        var stopped = Regex.Match(e.Message, $@"stopped after ([0-9]+) of {_files[SampleRepository.Shard2].Length} bytes");
        Assert.True(stopped.Success, e.Message);
        long kept = long.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(kept, 1, 1_000_000);
        Assert.Contains("run the command again to resume", e.Message);
        var incomplete = RepoCache.IncompletePath(FakeHub.Sha256(_files[SampleRepository.Shard2]));
        Assert.Equal(kept, new FileInfo(incomplete).Length);
        Assert.False(File.Exists(RepoCache.SnapshotFile(_commit, SampleRepository.Shard2)));
        Assert.False(File.Exists(Path.Combine(RepoCache.Folder, "refs", "main")));

        int before = _hub.Requests.Count;
        var snapshot = await Resolve();
        Assert.Equal(3, snapshot.DownloadedFiles); // the shard and the VAE and text-encoder weights that come after it
        var shardRequests = _hub.Requests.Skip(before).Where(r => r.Path.EndsWith(FakeHub.Sha256(_files[SampleRepository.Shard2]))).ToList();
        Assert.Equal($"bytes={kept}-", Assert.Single(shardRequests).Range);
        Assert.Equal(_files[SampleRepository.Shard2], File.ReadAllBytes(RepoCache.SnapshotFile(_commit, SampleRepository.Shard2)));
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public async Task TwoDownloadsOfOneFileDoNotInterleave()
    {
        var incomplete = RepoCache.IncompletePath(FakeHub.GitSha1(_files["model_index.json"]));
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        using (new FileStream(incomplete, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => Resolve());
            Assert.Contains("model_index.json", e.Message);
            Assert.Contains("is another download of it running?", e.Message);
        }
        Assert.Equal(SampleRepository.PipelineFiles.Length, (await Resolve()).DownloadedFiles);
    }

    [Fact]
    public async Task AServerThatFallsSilentIsGivenUpAndResumedLater()
    {
        _hub.StallAfter[SampleRepository.Shard2] = 200_000;
        // Long enough that a busy machine does not miss the answers that do come.
        var settings = _hub.Settings(Cache) with { IdleTimeout = TimeSpan.FromSeconds(3) };
        var e = await Assert.ThrowsAsync<HubException>(() => Resolve(settings));
        Assert.Contains("stopped after 200000 of", e.Message);
        Assert.Contains("sent nothing for 3 s", e.Message);
        Assert.Equal(3, (await Resolve()).DownloadedFiles);
        Assert.Contains(_hub.Requests, r => r.Range == "bytes=200000-");
    }

    [Theory]
    [InlineData("model_index.json", "git sha1")]
    [InlineData("vae/diffusion_pytorch_model.safetensors", "sha256")]
    public async Task AWrongChecksumIsRejectedAndNothingOfTheFileStays(string path, string algorithm)
    {
        _hub.Corrupt[path] = true;
        var e = await Assert.ThrowsAsync<HubException>(() => Resolve());
        Assert.Contains(path, e.Message);
        Assert.Contains($"have {algorithm}", e.Message);
        Assert.Contains("nothing was added to the cache", e.Message);
        var blob = algorithm == "sha256" ? FakeHub.Sha256(_files[path]) : FakeHub.GitSha1(_files[path]);
        Assert.DoesNotContain(CacheEntries(), entry => entry.Contains(blob) || entry.EndsWith(".incomplete") || entry.EndsWith(path) || entry.Contains("refs/"));
        if (path == "model_index.json") Assert.Empty(CacheEntries()); // the first file: the cache holds nothing at all
    }

    [Fact]
    public async Task AGatedRepositoryWantsHfTokenAndTheTokenNeverLeavesTheHub()
    {
        const string gated = "black-forest-labs/FLUX.2-dev";
        var commit = _hub.AddCommit(gated, _files, gated: true);
        var id = new HubModelId(gated, "main");

        var anonymous = await Assert.ThrowsAsync<HubException>(() => Resolve(id: id));
        Assert.Contains("HTTP 401", anonymous.Message);
        Assert.Contains("HF_TOKEN", anonymous.Message);
        Assert.Contains("no token was sent", anonymous.Message);
        Assert.Contains(gated, anonymous.Message);

        var refused = await Assert.ThrowsAsync<HubException>(() => Resolve(_hub.Settings(Cache, token: "hf_wrong"), id));
        Assert.Contains("HTTP 403", refused.Message);
        Assert.Contains("the token from HF_TOKEN was refused", refused.Message);

        var snapshot = await Resolve(_hub.Settings(Cache, token: FakeHub.GoodToken), id);
        Assert.Equal(commit, snapshot.Commit);
        Assert.Contains(_hub.Requests, r => r.Port != _hub.StoragePort && r.Authorization == $"Bearer {FakeHub.GoodToken}");
        Assert.Contains(_hub.Requests, r => r.Port == _hub.StoragePort);
        Assert.All(_hub.Requests.Where(r => r.Port == _hub.StoragePort), r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task UnknownRepositoriesRevisionsAndFilesAreNamed()
    {
        var repo = await Assert.ThrowsAsync<HubException>(() => Resolve(id: new HubModelId("black-forest-labs/FLUX.3", "main")));
        Assert.Contains("repository black-forest-labs/FLUX.3 was not found", repo.Message);
        Assert.Contains("HTTP 404", repo.Message);

        var revision = await Assert.ThrowsAsync<HubException>(() => Resolve(id: _id with { Revision = "v9" }));
        Assert.Contains("revision 'v9' is not a branch, tag or commit of " + SampleRepository.Repo, revision.Message);

        using var client = new HubClient(_hub.Settings(Cache));
        var file = await Assert.ThrowsAsync<HubException>(() => client.GetFileAsync(_id, _commit, "vae/missing.json", default));
        Assert.Contains($"vae/missing.json of {SampleRepository.Repo} was not found at revision 'main'", file.Message);
        Assert.Contains("HTTP 404", file.Message);
    }

    [Fact]
    public async Task AShardTheIndexNamesButTheRepositoryLacksIsAnError()
    {
        var files = SampleRepository.Files(2);
        files.Remove(SampleRepository.Shard2);
        _hub.AddCommit(SampleRepository.Repo, files, branch: "broken");
        var e = await Assert.ThrowsAsync<HubException>(() => Resolve(id: _id with { Revision = "broken" }));
        Assert.Contains($"{SampleRepository.Shard2} is needed (its shard index names it) but the repository does not have it", e.Message);
    }

    [Fact]
    public async Task ARepositoryWithoutModelIndexIsNotDiffusers()
    {
        _hub.AddCommit("someone/flux2-single-files", new Dictionary<string, byte[]> { ["flux-2-klein-4b.safetensors"] = [1, 2, 3] });
        var e = await Assert.ThrowsAsync<HubException>(() => Resolve(id: new HubModelId("someone/flux2-single-files", "main")));
        Assert.Contains("there is no model_index.json, so it is not a diffusers repository", e.Message);
    }

    [Fact]
    public async Task OfflineModeReadsOnlyTheCache()
    {
        var missing = await Assert.ThrowsAsync<HubException>(() => Resolve(_hub.Settings(Cache, offline: true)));
        Assert.Contains("HF_HUB_OFFLINE is set", missing.Message);
        Assert.Contains($"{SampleRepository.Repo} is not in the Hugging Face cache", missing.Message);
        Assert.Empty(_hub.Requests);

        var online = await Resolve();
        int before = _hub.Requests.Count;
        var offline = await Resolve(_hub.Settings(Cache, offline: true));
        Assert.Equal(online.Folder, offline.Folder);
        Assert.Equal(before, _hub.Requests.Count);

        File.Delete(RepoCache.SnapshotFile(_commit, SampleRepository.Shard1));
        var partial = await Assert.ThrowsAsync<HubException>(() => Resolve(_hub.Settings(Cache, offline: true)));
        Assert.Contains($"lacks {SampleRepository.Shard1}", partial.Message);
        Assert.Equal(before, _hub.Requests.Count);
    }

    [Fact]
    public async Task ALinkWhoseBlobIsGoneCountsAsMissing()
    {
        await Resolve();
        File.Delete(RepoCache.BlobPath(FakeHub.Sha256(_files[SampleRepository.Shard1])));
        var offline = await Assert.ThrowsAsync<HubException>(() => Resolve(_hub.Settings(Cache, offline: true)));
        Assert.Contains($"lacks {SampleRepository.Shard1}", offline.Message);
        Assert.Equal(1, (await Resolve()).DownloadedFiles);
        Assert.Equal(_files[SampleRepository.Shard1], File.ReadAllBytes(RepoCache.SnapshotFile(_commit, SampleRepository.Shard1)));
    }

    [Fact]
    public async Task AnUnreachableHubFallsBackToTheCache()
    {
        var closed = _hub.Settings(Cache) with { Endpoint = new Uri("http://127.0.0.1:9") };
        var missing = await Assert.ThrowsAsync<HubException>(() => Resolve(closed));
        Assert.Contains("cannot reach http://127.0.0.1:9/", missing.Message);
        Assert.Contains("is not in the Hugging Face cache", missing.Message);

        var online = await Resolve();
        var notices = new List<string>();
        var offline = await Resolve(closed, notices: notices);
        Assert.Equal(online.Folder, offline.Folder);
        Assert.Contains($"using the cached snapshot {_commit}", Assert.Single(notices));
    }

    [Fact]
    public async Task ABranchResolvesToItsCommitThroughRefs()
    {
        var devCommit = _hub.AddCommit(SampleRepository.Repo, SampleRepository.Files(3), branch: "dev");
        var dev = await Resolve(id: _id with { Revision = "dev" });
        Assert.Equal(devCommit, dev.Commit);
        Assert.Equal(devCommit, File.ReadAllText(Path.Combine(RepoCache.Folder, "refs", "dev")));
        Assert.False(File.Exists(Path.Combine(RepoCache.Folder, "refs", "main")));

        // Offline, the branch goes through refs/dev; a commit hash needs no ref.
        var offline = _hub.Settings(Cache, offline: true);
        Assert.Equal(dev.Folder, (await Resolve(offline, _id with { Revision = "dev" })).Folder);
        Assert.Equal(dev.Folder, (await Resolve(offline, _id with { Revision = devCommit })).Folder);
        await Assert.ThrowsAsync<HubException>(() => Resolve(offline));

        // main moves on: the next online resolution follows it.
        var newMain = _hub.AddCommit(SampleRepository.Repo, SampleRepository.Files(4));
        await Resolve();
        Assert.NotEqual(_commit, newMain);
        Assert.Equal(newMain, File.ReadAllText(Path.Combine(RepoCache.Folder, "refs", "main")));
    }

    [Fact]
    public async Task ACacheWrittenByThePythonToolsIsReadAsItIs()
    {
        // huggingface_hub's layout: blobs named by checksum, snapshot entries as relative links into them, refs/main.
        var folder = Path.Combine(Cache, "models--black-forest-labs--FLUX.2-klein-4B");
        foreach (var path in SampleRepository.PipelineFiles)
        {
            var blob = path.EndsWith(".safetensors") ? FakeHub.Sha256(_files[path]) : FakeHub.GitSha1(_files[path]);
            Directory.CreateDirectory(Path.Combine(folder, "blobs"));
            File.WriteAllBytes(Path.Combine(folder, "blobs", blob), _files[path]);
            var link = Path.Combine(folder, "snapshots", _commit, path);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, Path.Combine(folder, "blobs", blob)));
        }
        Directory.CreateDirectory(Path.Combine(folder, "refs"));
        File.WriteAllText(Path.Combine(folder, "refs", "main"), _commit);

        var offline = await Resolve(_hub.Settings(Cache, offline: true));
        Assert.Equal(Path.Combine(folder, "snapshots", _commit), offline.Folder);
        Assert.Equal(_files[SampleRepository.Shard1], File.ReadAllBytes(Path.Combine(offline.Folder, SampleRepository.Shard1)));
        var online = await Resolve();
        Assert.Equal(0, online.DownloadedFiles);
        Assert.Single(_hub.Requests); // the listing
    }

    private Task<string> ResolvePath(string path, HubSettings? settings = null, string revision = "main", List<string>? notices = null) =>
        new HubResolver(settings ?? _hub.Settings(Cache)) { Notice = notices == null ? null : notices.Add }
            .ResolvePathAsync(new HubPathReference(new HubModelId(SampleRepository.Repo, revision), path));

    [Fact]
    public async Task OneFileIsFetchedAloneAndThenReadFromTheCache()
    {
        const string single = "flux-2-klein-4b.safetensors";
        var local = await ResolvePath(single);
        Assert.Equal(RepoCache.SnapshotFile(_commit, single), local);
        Assert.Equal(_files[single], File.ReadAllBytes(local));
        Assert.Equal(_commit, File.ReadAllText(Path.Combine(RepoCache.Folder, "refs", "main")));
        // The listing and that one file: nothing the pipeline would read for the whole repository.
        Assert.Equal(RepoCache.SnapshotFiles(_commit), [single]);

        int before = _hub.Requests.Count;
        Assert.Equal(local, await ResolvePath(single));
        Assert.Single(_hub.Requests.Skip(before)); // the listing only
        Assert.Equal(local, await ResolvePath(single, _hub.Settings(Cache, offline: true)));
        Assert.Equal(local, await ResolvePath(single, revision: _commit));
    }

    [Fact]
    public async Task AFileTheRepositoryLacksIsNamedWithTheWeightsItHas()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => ResolvePath("flux-2-klein-4b-Q4_K_M.gguf"));
        Assert.StartsWith($"{SampleRepository.Repo} (commit {_commit}) has no file or component folder flux-2-klein-4b-Q4_K_M.gguf; its weights files: ", e.Message);
        Assert.Contains("flux-2-klein-4b.safetensors", e.Message);
        Assert.False(Directory.Exists(RepoCache.Folder));
    }

    [Fact]
    public async Task OfflineOnlyTheCacheIsRead()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => ResolvePath("vae/diffusion_pytorch_model.safetensors", _hub.Settings(Cache, offline: true)));
        Assert.Contains($"HF_HUB_OFFLINE is set, and {SampleRepository.Repo}/vae/diffusion_pytorch_model.safetensors is not in the Hugging Face cache", e.Message);
        Assert.Contains($"flux2 download {SampleRepository.Repo}/vae/diffusion_pytorch_model.safetensors", e.Message);
        Assert.Empty(_hub.Requests);

        // With the repository's snapshot cached but not that file: named as missing from the snapshot.
        await Resolve();
        var missing = await Assert.ThrowsAsync<HubException>(() => ResolvePath("README.md", _hub.Settings(Cache, offline: true)));
        Assert.Contains($"no snapshots/{_commit}/README.md", missing.Message);
    }

    [Fact]
    public async Task AnUnreachableHubFallsBackToTheCachedFile()
    {
        var local = await ResolvePath("README.md");
        var notices = new List<string>();
        var unreachable = _hub.Settings(Cache) with { Endpoint = new Uri("http://127.0.0.1:1/") };
        Assert.Equal(local, await ResolvePath("README.md", unreachable, notices: notices));
        Assert.Contains($"using the cached {SampleRepository.Repo}/README.md", Assert.Single(notices));
    }

    [Fact]
    public async Task AComponentFolderBringsWhatLoadingReadsOfIt()
    {
        // The sharded transformer: its config, index and shards, not the fp16 variant beside them; the VAE: not the .bin copy.
        var transformer = await ResolvePath("transformer");
        Assert.Equal(RepoCache.SnapshotFile(_commit, "transformer"), transformer);
        var vae = await ResolvePath("vae");
        Assert.Equal(SampleRepository.PipelineFiles.Where(f => f.StartsWith("transformer/") || f.StartsWith("vae/")).Order(StringComparer.Ordinal),
            RepoCache.SnapshotFiles(_commit).Order(StringComparer.Ordinal));
        Assert.Equal(_files[SampleRepository.Shard2], File.ReadAllBytes(Path.Combine(transformer, Path.GetFileName(SampleRepository.Shard2))));
        Assert.True(File.Exists(Path.Combine(vae, "config.json")));

        // Offline, the cached folder; one whose shard is gone is not taken for complete.
        Assert.Equal(transformer, await ResolvePath("transformer", _hub.Settings(Cache, offline: true)));
        File.Delete(RepoCache.SnapshotFile(_commit, SampleRepository.Shard1));
        var e = await Assert.ThrowsAsync<HubException>(() => ResolvePath("transformer", _hub.Settings(Cache, offline: true)));
        Assert.Contains($"no snapshots/{_commit}/{SampleRepository.Shard1}", e.Message);
    }
}
