using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 download</c>, and generate and info given a Hugging Face model id, against a Hub served in-process on
/// loopback (the tiny klein folder published as black-forest-labs/FLUX.2-klein-4B) with a temporary cache.</summary>
public sealed class HubModelTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>, IAsyncLifetime
{
    private const string Repo = "black-forest-labs/FLUX.2-klein-4B";
    private FakeHub _hub = null!;
    private readonly TempDirectory _dir = new();
    private string _commit = null!;

    private string Cache => _dir.File("hub");

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _commit = _hub.AddCommit(Repo, FakeHub.FilesOf(model.Folder));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void GenerateWithoutAModelDownloadsTheDefaultOnceAndNamesItInTheImage()
    {
        var png = _dir.File("fox.png");
        var first = CliTestHost.RunWithHub(_hub.Settings(Cache), "generate", "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "1", "-o", png);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("downloading transformer/diffusion_pytorch_model.safetensors", first.Error);
        Assert.Contains("downloaded text_encoder/model.safetensors", first.Error);
        Assert.Equal("FLUX.2-klein-4B (klein (distilled))", TestImages.PngText(File.ReadAllBytes(png))["model"]);

        // The second run finds everything in the cache, offline too.
        var again = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "generate", "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "1",
            "-o", png, "--force");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.DoesNotContain("downloading", again.Error);
    }

    [Fact]
    public void DownloadPrintsTheSnapshotAndInfoReadsIt()
    {
        var download = CliTestHost.RunWithHub(_hub.Settings(Cache), "download", Repo);
        Assert.True(download.ExitCode == 0, download.Error);
        var folder = Path.Combine(Cache, "models--black-forest-labs--FLUX.2-klein-4B", "snapshots", _commit);
        Assert.Equal([$"{Repo}: commit {_commit}, {FakeHub.FilesOf(model.Folder).Count} files downloaded", folder],
            download.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var again = CliTestHost.RunWithHub(_hub.Settings(Cache), "download", $"{Repo}@{_commit}");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("0 files downloaded", again.Output);
        Assert.Equal("", again.Error);

        var info = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "info", Repo);
        Assert.True(info.ExitCode == 0, info.Error);
        Assert.Contains($"path:                    {folder}", info.Output);
        Assert.Contains("status:                  complete", info.Output);
    }

    [Fact]
    public void AGatedModelWithoutATokenIsOneLineNamingHfToken()
    {
        _hub.AddCommit("black-forest-labs/FLUX.2-dev", FakeHub.FilesOf(model.Folder), gated: true);
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), "generate", "-m", "black-forest-labs/FLUX.2-dev", "-p", "x", "-o", _dir.File("x.png"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith("flux2 generate: error: model_index.json of black-forest-labs/FLUX.2-dev cannot be downloaded (HTTP 401", line);
        Assert.Contains("set HF_TOKEN", line);
        Assert.False(File.Exists(_dir.File("x.png")));
    }

    [Fact]
    public void OfflineWithoutTheModelCachedIsOneLine()
    {
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "generate", "-p", "x", "-o", _dir.File("x.png"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith($"flux2 generate: error: HF_HUB_OFFLINE is set, and {Repo} is not in the Hugging Face cache", line);
        Assert.Contains($"flux2 download {Repo}", line);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public void ComponentFilesComeFromTheHubByTheirPathOrAddress()
    {
        // The tiny klein as single files in a repository of its own, as the GGUF and ComfyUI repositories publish them.
        const string files = "someone/FLUX.2-klein-4B-single-files";
        var (transformer, vae, encoder) = TinyModelFolders.KleinSingleFiles(model.Folder, _dir.File("local"));
        var commit = _hub.AddCommit(files, new Dictionary<string, byte[]>
        {
            ["flux-2-klein-4b.safetensors"] = File.ReadAllBytes(transformer),
            ["split_files/vae/ae.safetensors"] = File.ReadAllBytes(vae),
            ["text_encoders/qwen_3_4b.safetensors"] = File.ReadAllBytes(encoder),
            ["README.md"] = "a model card"u8.ToArray(),
        });
        string[] prompt = ["-p", "a red fox", "-W", "32", "-H", "32", "--seed", "4"];
        var local = CliTestHost.Run(["generate", "--transformer", transformer, "--vae", vae, "--text-encoder", encoder, .. prompt, "-o", _dir.File("local.png")]);
        Assert.True(local.ExitCode == 0, local.Error);

        string[] fromHub = ["--transformer", $"{files}/flux-2-klein-4b.safetensors", "--vae", $"{files}@main/split_files/vae/ae.safetensors",
            "--text-encoder", $"https://huggingface.co/{files}/blob/main/text_encoders/qwen_3_4b.safetensors"];
        var hub = CliTestHost.RunWithHub(_hub.Settings(Cache), ["generate", .. fromHub, .. prompt, "-o", _dir.File("hub.png")]);
        Assert.True(hub.ExitCode == 0, hub.Error);
        Assert.Equal(ImageFileReaderPixels(_dir.File("local.png")), ImageFileReaderPixels(_dir.File("hub.png")));
        Assert.Equal("flux-2-klein-4b.safetensors (klein (distilled))", TestImages.PngText(File.ReadAllBytes(_dir.File("hub.png")))["model"]);
        var cache = new Flux2.Hub.HubRepoCache(Cache, files);
        Assert.Equal(["flux-2-klein-4b.safetensors", "split_files/vae/ae.safetensors", "text_encoders/qwen_3_4b.safetensors"],
            cache.SnapshotFiles(commit).Order(StringComparer.Ordinal));

        // Component folders of the diffusers repository (what loading reads of them) with the single-file transformer.
        string[] folders = ["--transformer", $"{files}/flux-2-klein-4b.safetensors", "--vae", $"{Repo}/vae", "--text-encoder", $"{Repo}/text_encoder",
            "--tokenizer", $"https://huggingface.co/{Repo}/tree/main/tokenizer"];
        var mixed = CliTestHost.RunWithHub(_hub.Settings(Cache), ["generate", .. folders, .. prompt, "-o", _dir.File("mixed.png")]);
        Assert.True(mixed.ExitCode == 0, mixed.Error);
        Assert.Equal(ImageFileReaderPixels(_dir.File("local.png")), ImageFileReaderPixels(_dir.File("mixed.png")));
        Assert.DoesNotContain(new Flux2.Hub.HubRepoCache(Cache, Repo).SnapshotFiles(_commit), f => f.StartsWith("transformer/"));

        // Offline, from the cache; info reads them the same way; download fetches and prints one file.
        var offline = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), ["generate", .. fromHub, .. prompt, "-o", _dir.File("offline.png")]);
        Assert.True(offline.ExitCode == 0, offline.Error);
        var info = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), ["info", .. fromHub]);
        Assert.True(info.ExitCode == 0, info.Error + info.Output);
        var download = CliTestHost.RunWithHub(_hub.Settings(Cache), "download", $"{files}/README.md");
        Assert.True(download.ExitCode == 0, download.Error);
        Assert.Equal(cache.SnapshotFile(commit, "README.md"), download.Output.Trim());
    }

    /// <summary>A LoRA given as a file of a Hub repository (by path or page address) is fetched into the cache and applied as
    /// the same file given locally; info describes it from there.</summary>
    [Fact]
    public void ALoraComesFromTheHubByItsPathOrAddress()
    {
        const string loras = "someone/klein-tiny-loras";
        var lora = _dir.File("style.safetensors");
        using (var weights = Flux2.Core.SafeTensors.SafeTensorsFile.Open(Path.Combine(model.Folder, "transformer", "diffusion_pytorch_model.safetensors")))
        {
            var shape = weights.Get("transformer_blocks.0.attn.to_q.weight").Shape;
            var w = new Flux2.Core.SafeTensors.SafeTensorsWriter();
            w.AddFloat32("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", [2, shape[1]], Enumerable.Range(0, (int)(2 * shape[1])).Select(i => (i % 7 - 3) * 0.05f).ToArray());
            w.AddFloat32("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", [shape[0], 2], Enumerable.Range(0, (int)(2 * shape[0])).Select(i => (i % 5 - 2) * 0.05f).ToArray());
            w.Write(lora);
        }
        _hub.AddCommit(loras, new Dictionary<string, byte[]> { ["style/style.safetensors"] = File.ReadAllBytes(lora) });
        string[] prompt = ["generate", "-m", model.Folder, "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "4"];
        Assert.Equal(0, CliTestHost.Run([.. prompt, "-o", _dir.File("plain.png")]).ExitCode);
        Assert.Equal(0, CliTestHost.Run([.. prompt, "--lora", lora + ":3", "-o", _dir.File("local.png")]).ExitCode);
        Assert.NotEqual(ImageFileReaderPixels(_dir.File("plain.png")), ImageFileReaderPixels(_dir.File("local.png")));
        foreach (var (reference, name) in new[] { ($"{loras}/style/style.safetensors:3", "path"), ($"https://huggingface.co/{loras}/blob/main/style/style.safetensors:3", "address") })
        {
            var r = CliTestHost.RunWithHub(_hub.Settings(Cache), [.. prompt, "--lora", reference, "-o", _dir.File($"{name}.png")]);
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal(ImageFileReaderPixels(_dir.File("local.png")), ImageFileReaderPixels(_dir.File($"{name}.png")));
        }
        var info = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "info", $"{loras}/style/style.safetensors");
        Assert.Contains("LoRA:                    1 module, rank 2, diffusers / PEFT keys", info.Output);
    }

    [Fact]
    public void AMissingLocalFileThatReadsAsAHubFileSaysSo()
    {
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), "info", "--transformer", "models/unet/flux-2-klein-4b.gguf");
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        Assert.StartsWith("flux2 info: error: models/unet/flux-2-klein-4b.gguf: no such file here, so it was read as a path in a Hugging Face repository: " +
            "repository models/unet was not found", Assert.Single(r.ErrorLines));
    }

    private static byte[] ImageFileReaderPixels(string png) => Flux2.Pipelines.Images.ImageFileReader.Read(png).Pixels;

    [Fact]
    public void AnExistingFolderIsAPathEvenWhenItLooksLikeAnId()
    {
        // "org/name" relative to the working directory is a local folder when there is one: no Hub request.
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, model.Folder);
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), "info", relative);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Empty(_hub.Requests);
    }

    [Theory]
    [InlineData(new string[0], "missing REPO")]
    [InlineData(new[] { "./models/x" }, "is not a Hugging Face model id")]
    [InlineData(new[] { "a/b", "c/d" }, "unexpected argument 'c/d'")]
    public void DownloadCommandLineMistakesExitTwo(string[] args, string expected)
    {
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), ["download", .. args]);
        Assert.Equal(CliApp.ExitUsage, r.ExitCode);
        Assert.Contains(expected, Assert.Single(r.ErrorLines));
    }
}
