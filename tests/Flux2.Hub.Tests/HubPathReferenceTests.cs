namespace Flux2.Hub.Tests;

/// <summary>How a file or folder of a Hub repository is written: org/name[@revision]/path, or the address the Hub's site gives it.</summary>
public sealed class HubPathReferenceTests
{
    [Theory]
    [InlineData("unsloth/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf", "unsloth/Qwen3-4B-GGUF", "main", "Qwen3-4B-Q4_K_M.gguf")]
    [InlineData("org/name@v1.0/split/model-00001-of-00002.gguf", "org/name", "v1.0", "split/model-00001-of-00002.gguf")]
    [InlineData("https://huggingface.co/org/name/blob/main/flux-2-klein-4b.safetensors", "org/name", "main", "flux-2-klein-4b.safetensors")]
    [InlineData("https://huggingface.co/org/name/resolve/main/vae/ae.safetensors?download=true", "org/name", "main", "vae/ae.safetensors")]
    [InlineData("https://huggingface.co/org/name/blob/refs%2Fpr%2F3/a%20b.gguf", "org/name", "refs/pr/3", "a b.gguf")]
    [InlineData("https://huggingface.co/org/name/tree/main/tokenizer", "org/name", "main", "tokenizer")]
    public void ReadsTheRepositoryRevisionAndPath(string text, string repo, string revision, string path)
    {
        Assert.True(HubPathReference.TryParse(text, out var reference));
        Assert.Equal(new HubPathReference(new HubModelId(repo, revision), path), reference);
    }

    [Theory]
    [InlineData("org/name")]
    [InlineData("org/name/")]
    [InlineData("org/name/../escape.gguf")]
    [InlineData("org/name/a//b.gguf")]
    [InlineData("org/name/./a.gguf")]
    [InlineData("org/name/a\\b.gguf")]
    [InlineData("/abs/path.gguf")]
    [InlineData("models/flux.gguf")]
    [InlineData("./dir/sub/model.gguf")]
    [InlineData("org/na--me/model.gguf")]
    [InlineData("https://huggingface.co/org/name")]
    [InlineData("https://huggingface.co/org/name/commits/main/x")]
    [InlineData("https://example.com/org/name/blob/main/x.gguf")]
    [InlineData("https://huggingface.co/org/name/blob/main/%2E%2E/x")]
    public void RefusesWhatIsNoFileOfARepository(string text) => Assert.False(HubPathReference.TryParse(text, out _));

    [Fact]
    public void PrintsAsItIsWritten()
    {
        Assert.True(HubPathReference.TryParse("org/name@v2/dir/x.gguf", out var reference));
        Assert.Equal("org/name@v2/dir/x.gguf", reference.ToString());
    }
}
