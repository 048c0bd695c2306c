using Flux2.Core.Backend;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary><see cref="PromptEmbeddingCache"/>: a prompt seen before (in this pipeline, or by another process through the
/// folder) skips the text encoder and gives exactly the encoder's embedding; damaged files, other encoders and the byte
/// budgets never hand back a wrong one.</summary>
public sealed class PromptEmbeddingCacheTests(TinyKleinModel klein) : IClassFixture<TinyKleinModel>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Flux2Pipeline Load(PromptEmbeddingCache? cache) => TestPipeline.Load(klein.Folder, options: new PipelineOptions { PromptCache = cache });

    private static float[] Embed(Flux2Pipeline pipeline, params string[] prompts)
    {
        using var embedding = pipeline.EncodePrompts(prompts);
        return pipeline.Backend.DownloadFloat32(embedding.Embeddings);
    }

    [Fact]
    public void APromptSeenBeforeComesFromMemoryAsTheEncoderGaveIt()
    {
        float[] expected;
        using (var plain = Load(null)) expected = Embed(plain, "a red fox");
        var cache = new PromptEmbeddingCache();
        using var pipeline = Load(cache);
        Assert.Equal(expected, Embed(pipeline, "a red fox"));
        Assert.Equal((0, 1), (cache.Hits, cache.Misses));
        Assert.Equal(expected, Embed(pipeline, "a red fox"));
        Assert.Equal((1, 1), (cache.Hits, cache.Misses));
        Assert.NotEqual(expected, Embed(pipeline, "a red fox."));
        Assert.Equal((1, 2), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void AnotherProcessFindsItInTheFolder()
    {
        float[] first;
        using (var pipeline = Load(new PromptEmbeddingCache(folder: _dir.Path))) first = Embed(pipeline, "a lighthouse at dusk");
        Assert.Single(Directory.GetFiles(_dir.Path));

        var fresh = new PromptEmbeddingCache(folder: _dir.Path);
        using var again = Load(fresh);
        Assert.Equal(first, Embed(again, "a lighthouse at dusk"));
        Assert.Equal((1, 0), (fresh.Hits, fresh.Misses));
    }

    [Fact]
    public void ABatchOfCachedAndNewPromptsEqualsTheEncodersBatch()
    {
        string[] prompts = ["a cat", "a red fox", "a tree"];
        float[] expected;
        using (var plain = Load(null)) expected = Embed(plain, prompts);
        var cache = new PromptEmbeddingCache(folder: _dir.Path);
        using var pipeline = Load(cache);
        Embed(pipeline, "a red fox");
        Assert.Equal(expected, Embed(pipeline, prompts));
        Assert.Equal((1, 3), (cache.Hits, cache.Misses));
        Assert.Equal(expected, Embed(pipeline, prompts));
        Assert.Equal((4, 3), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void ADamagedOrTruncatedFileIsAMissAndIsReplaced()
    {
        float[] expected;
        using (var pipeline = Load(new PromptEmbeddingCache(folder: _dir.Path))) expected = Embed(pipeline, "a red fox");
        var file = Assert.Single(Directory.GetFiles(_dir.Path));
        var bytes = File.ReadAllBytes(file);
        foreach (var damaged in new[] { Flip(bytes, bytes.Length / 2), bytes[..^1], Flip(bytes, 9) })
        {
            File.WriteAllBytes(file, damaged);
            var cache = new PromptEmbeddingCache(folder: _dir.Path);
            using var pipeline = Load(cache);
            Assert.Equal(expected, Embed(pipeline, "a red fox"));
            Assert.Equal((0, 1), (cache.Hits, cache.Misses));
            Assert.Equal(bytes, File.ReadAllBytes(file)); // written again, whole
        }
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 0x10;
        return copy;
    }

    [Fact]
    public void KeysTellEncodersAndTokensApart()
    {
        long[] ids = [1, 2, 3], mask = [1, 1, 0];
        string key = PromptEmbeddingCache.Key("encoder A", ids, mask);
        Assert.Equal(key, PromptEmbeddingCache.Key("encoder A", [1, 2, 3], [1, 1, 0]));
        Assert.NotEqual(key, PromptEmbeddingCache.Key("encoder B", ids, mask));
        Assert.NotEqual(key, PromptEmbeddingCache.Key("encoder A", [1, 2, 4], mask));
        Assert.NotEqual(key, PromptEmbeddingCache.Key("encoder A", ids, [1, 1, 1]));

        // Replacing the weights (a new modification time) makes another identity.
        var weights = _dir.WriteText("te/model.safetensors", "weights");
        string before = PromptEncoder.FilesIdentity(Path.GetDirectoryName(weights)!);
        Assert.Equal(before, PromptEncoder.FilesIdentity(Path.GetDirectoryName(weights)!));
        File.SetLastWriteTimeUtc(weights, File.GetLastWriteTimeUtc(weights).AddSeconds(1));
        Assert.NotEqual(before, PromptEncoder.FilesIdentity(Path.GetDirectoryName(weights)!));
    }

    [Fact]
    public void BudgetsDropTheLeastRecentlyUsed()
    {
        const int Length = 10, Features = 100;
        float[] Values(float v) => Enumerable.Repeat(v, Length * Features).ToArray();
        long entryBytes = Length * Features * sizeof(float);

        var memory = new PromptEmbeddingCache(memoryBytes: 2 * entryBytes);
        memory.Add("a", Length, Features, Values(1));
        memory.Add("b", Length, Features, Values(2));
        Assert.NotNull(memory.TryGet("a", Length, Features)); // a is now the most recent
        memory.Add("c", Length, Features, Values(3));
        Assert.Null(memory.TryGet("b", Length, Features));
        Assert.Equal(Values(1), memory.TryGet("a", Length, Features));
        Assert.Equal(Values(3), memory.TryGet("c", Length, Features));
        Assert.Null(memory.TryGet("c", Length, Features + 1)); // another shape is another entry

        long fileBytes = entryBytes + 48;
        var disk = new PromptEmbeddingCache(memoryBytes: 0, folder: _dir.Path, diskBytes: 2 * fileBytes);
        disk.Add("a", Length, Features, Values(1));
        File.SetLastWriteTimeUtc(Path.Combine(_dir.Path, "a.embedding"), DateTime.UtcNow.AddMinutes(-2));
        disk.Add("b", Length, Features, Values(2));
        File.SetLastWriteTimeUtc(Path.Combine(_dir.Path, "b.embedding"), DateTime.UtcNow.AddMinutes(-1));
        disk.Add("c", Length, Features, Values(3));
        Assert.Equal(["b.embedding", "c.embedding"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());
        Assert.Null(disk.TryGet("a", Length, Features));
        Assert.Equal(Values(2), disk.TryGet("b", Length, Features));
    }

    [Fact]
    public void AFolderThatCannotBeWrittenOnlyCostsTime()
    {
        var notAFolder = _dir.WriteText("file", "x");
        var cache = new PromptEmbeddingCache(folder: notAFolder);
        using var pipeline = Load(cache);
        var first = Embed(pipeline, "a red fox");
        Assert.Equal(first, Embed(pipeline, "a red fox"));
        Assert.Equal((1, 1), (cache.Hits, cache.Misses));
        Assert.Equal("x", File.ReadAllText(notAFolder));
    }

    [Fact]
    public void TheDefaultFolderFollowsTheEnvironment()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] values) => name => values.FirstOrDefault(v => v.Name == name).Value;
        Assert.Equal("/x", PromptEmbeddingCache.DefaultFolder(Env(("FLUX2_PROMPT_CACHE", "/x"), ("HOME", "/home/u"))));
        Assert.Null(new PromptEmbeddingCache(folder: PromptEmbeddingCache.DefaultFolder(Env(("FLUX2_PROMPT_CACHE", "")))).Folder);
        Assert.Equal("/c/flux2/prompts", PromptEmbeddingCache.DefaultFolder(Env(("XDG_CACHE_HOME", "/c"), ("HOME", "/home/u"))));
        Assert.Equal("/home/u/.cache/flux2/prompts", PromptEmbeddingCache.DefaultFolder(Env(("HOME", "/home/u"))));
        Assert.Null(PromptEmbeddingCache.DefaultFolder(Env()));
    }
}
