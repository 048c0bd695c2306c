using Flux2.Pipelines.Images;
using Flux2.Testing;
using Flux2.Tests;
using static Flux2.Tests.TestImages;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 generate</c> end to end on a tiny but complete klein model folder (real Qwen3 tokenizer, random
/// tiny Qwen3 text encoder, tiny_klein transformer, vae_small), run in-process through <see cref="CliApp.Run"/>.</summary>
public sealed class GenerateCommandTests : IClassFixture<TinyKleinModel>
{
    private readonly TinyKleinModel _model;

    public GenerateCommandTests(TinyKleinModel model) => _model = model;

    /// <summary>A small fp32 generation of the test model, for runs compared image for image.</summary>
    private string[] FoxArgs => ["generate", "-m", _model.Folder, "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "3", "--precision", "fp32"];

    private CliResult Generate(params string[] args) => CliTestHost.Run(["generate", "-m", _model.Folder, .. args]);

    [Fact]
    public void WritesAPngWithMetadataAndIsReproducible()
    {
        using var dir = new TempDirectory();
        var first = dir.File("a.png");
        var result = Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "42", "-o", first);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("seed: 42", result.Output);
        Assert.Contains("step 4/4", result.Error); // plain progress lines when stderr is not a terminal

        var image = ImageFileReader.Read(first);
        Assert.Equal((64, 48), (image.Width, image.Height));
        var text = PngText(File.ReadAllBytes(first));
        Assert.Equal("a red fox", text["prompt"]);
        Assert.Equal("42", text["seed"]);
        Assert.Equal("4", text["steps"]);
        Assert.Equal("64x48", text["size"]);
        Assert.Contains("klein", text["model"]);
        Assert.StartsWith("flux2 ", text["Software"]);

        // The same seed again, over the first file (--force): the same bytes.
        var firstBytes = File.ReadAllBytes(first);
        var again = Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "42", "-o", first, "--force");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(firstBytes, File.ReadAllBytes(first));

        var other = dir.File("c.png");
        Assert.Equal(0, Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "43", "-o", other).ExitCode);
        Assert.NotEqual(ImageFileReader.Read(first).Pixels, ImageFileReader.Read(other).Pixels);
    }

    [Theory]
    [InlineData("a.jpg")]
    [InlineData("a.WEBP")]
    public void WritesJpegAndWebpWithTheMetadataAsXmp(string name)
    {
        using var dir = new TempDirectory();
        var result = Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "42", "-o", dir.File(name), "--quality", "95");
        Assert.True(result.ExitCode == 0, result.Error);
        var xmp = XmpText(File.ReadAllBytes(dir.File(name)));
        Assert.Equal("a red fox", xmp["prompt"]);
        Assert.Equal("42", xmp["seed"]);
        Assert.Equal("64x48", xmp["size"]);
        Assert.StartsWith("flux2 ", xmp["Software"]);

        // The same image as the PNG of the same seed, up to the lossy format's error.
        Assert.Equal(0, Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "42", "-o", dir.File("a.png")).ExitCode);
        var lossy = ImageFileReader.Read(dir.File(name));
        var exact = ImageFileReader.Read(dir.File("a.png"));
        Assert.Equal((64, 48), (lossy.Width, lossy.Height));
        double difference = BlockMeanDifference(64, exact.Pixels, lossy.Pixels);
        Assert.True(difference < 3, $"mean difference of the 8×8 blocks' means {difference:F2} levels");

        // A lower quality gives a smaller file.
        Assert.Equal(0, Generate("-p", "a red fox", "-W", "64", "-H", "48", "--seed", "42", "-o", dir.File("low" + name), "--quality", "10").ExitCode);
        Assert.True(new FileInfo(dir.File("low" + name)).Length < new FileInfo(dir.File(name)).Length);
    }

    [Theory]
    [InlineData("a.gif", null, "option --output: 'DIR/a.gif' must end in .png, .jpg, .jpeg or .webp")]
    [InlineData("a.png", "80", "option --quality: applies to .jpg and .webp outputs; 'DIR/a.png' is a PNG")]
    [InlineData("a.jpg", "101", "option --quality: 101 is outside [0, 100]")]
    public void OutputFormatMistakesAreOneLineBeforeTheModelLoads(string name, string? quality, string message)
    {
        using var dir = new TempDirectory();
        string[] args = ["-p", "x", "-o", dir.File(name), .. quality != null ? new[] { "--quality", quality } : []];
        var result = Generate(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"flux2 generate: error: {message.Replace("DIR", dir.Path)}", Assert.Single(result.ErrorLines));
        Assert.DoesNotContain("seed:", result.Output);
    }

    [Fact]
    public void SeveralImagesGetNumberedFilesAndConsecutiveSeeds()
    {
        using var dir = new TempDirectory();
        var result = Generate("-p", "two cats", "-W", "32", "-H", "32", "--seed", "7", "-n", "2", "-o", dir.File("cat.png"), "--verbose");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("7", PngText(File.ReadAllBytes(dir.File("cat-1.png")))["seed"]);
        Assert.Equal("8", PngText(File.ReadAllBytes(dir.File("cat-2.png")))["seed"]);
        Assert.Contains("timings:", result.Output);
    }

    [Fact]
    public void BatchedImagesAreTheOneByOneImages()
    {
        using var dir = new TempDirectory();
        var single = Generate("-p", "three cats", "-W", "32", "-H", "32", "--seed", "7", "-n", "3", "-o", dir.File("one.png"));
        Assert.True(single.ExitCode == 0, single.Error);
        var batched = Generate("-p", "three cats", "-W", "32", "-H", "32", "--seed", "7", "-n", "3", "--batch", "2", "-o", dir.File("two.png"));
        Assert.True(batched.ExitCode == 0, batched.Error);
        for (int n = 1; n <= 3; n++)
        {
            var (alone, together) = (ImageFileReader.Read(dir.File($"one-{n}.png")).Pixels, ImageFileReader.Read(dir.File($"two-{n}.png")).Pixels);
            Assert.True(alone.Zip(together, (a, b) => Math.Abs(a - b)).Max() <= 1, $"image {n}");
        }
    }

    [Fact]
    public void ARepeatedPromptSkipsTheTextEncoderInTheNextRun()
    {
        // Each run is a new process's cache: the second finds the embedding in the folder (FLUX2_PROMPT_CACHE).
        using var dir = new TempDirectory();
        string[] args = ["-p", "a prompt only this test uses", "-W", "32", "-H", "32", "--seed", "5", "--verbose", "--force", "-o", dir.File("p.png")];
        var first = Generate(args);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.DoesNotContain("from the prompt cache", first.Output);
        var bytes = File.ReadAllBytes(dir.File("p.png"));

        var second = Generate(args);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("(1 of 1 prompts from the prompt cache)", second.Output);
        Assert.Equal(bytes, File.ReadAllBytes(dir.File("p.png")));
    }

    [Fact]
    public void APromptFileGivesEachPromptItsImagesWithConsecutiveSeeds()
    {
        using var dir = new TempDirectory();
        var prompts = dir.File("prompts.txt");
        File.WriteAllText(prompts, "\uFEFFa red fox\r\n\n  \r\na lighthouse at dusk\n");
        var result = Generate("--prompt-file", prompts, "-n", "2", "-W", "32", "-H", "32", "--seed", "7", "-o", dir.File("b.png"));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("seeds: 7 to 10", result.Output);
        var texts = Enumerable.Range(1, 4).Select(k => PngText(File.ReadAllBytes(dir.File($"b-{k}.png")))).ToArray();
        Assert.Equal(["a red fox", "a red fox", "a lighthouse at dusk", "a lighthouse at dusk"], texts.Select(t => t["prompt"]));
        Assert.Equal(["7", "8", "9", "10"], texts.Select(t => t["seed"]));

        var alone = dir.File("alone.png");
        Assert.Equal(0, Generate("-p", "a lighthouse at dusk", "-W", "32", "-H", "32", "--seed", "9", "-o", alone).ExitCode);
        Assert.Equal(ImageFileReader.Read(alone).Pixels, ImageFileReader.Read(dir.File("b-3.png")).Pixels);
    }

    [Theory]
    [InlineData("both", "not both")]
    [InlineData("blank", "holds no prompt")]
    [InlineData("latin1", "not UTF-8")]
    [InlineData("missing", "file not found")]
    [InlineData("too many", "300 prompts")]
    [InlineData("too many images", "2 prompts × 200 images")]
    [InlineData("control character", "prompts.txt: line 3: the prompt holds U+0000 at character 2, which image metadata cannot store")]
    public void BadPromptFilesAreOneLineErrors(string problem, string mentioned)
    {
        using var dir = new TempDirectory();
        using var inputs = new TempDirectory();
        var file = inputs.File("prompts.txt");
        string[] extra = [];
        switch (problem)
        {
            case "both": File.WriteAllText(file, "a\n"); extra = ["-p", "b"]; break;
            case "blank": File.WriteAllText(file, "\n \r\n\t\n"); break;
            case "latin1": File.WriteAllBytes(file, [0x63, 0x61, 0x66, 0xE9, 0x0A]); break;
            case "too many": File.WriteAllLines(file, Enumerable.Range(0, 300).Select(i => $"prompt {i}")); break;
            case "too many images": File.WriteAllLines(file, ["a", "b"]); extra = ["-n", "200"]; break;
            case "control character": File.WriteAllText(file, "a\n\nb\0c\n"); break;
        }
        AssertOneLineFailure(Generate(["--prompt-file", file, .. extra, "-o", dir.File("a.png")]), dir, mentioned);
    }

    [Fact]
    public void EachImageIsWrittenWhenDecodedAndCancellingKeepsTheFinishedOnes()
    {
        using var dir = new TempDirectory();
        string first = dir.File("cat-1.png"), second = dir.File("cat-2.png");
        using var stop = new CancellationTokenSource();
        (bool First, bool Second)? existedAtFirstReport = null;
        var output = new LineWatchingWriter(line =>
        {
            if (!line.StartsWith("wrote ", StringComparison.Ordinal)) return;
            existedAtFirstReport ??= (File.Exists(first), File.Exists(second));
            stop.Cancel(); // as Ctrl-C right after the first image
        });
        var error = new StringWriter { NewLine = "\n" };
        int code = new GenerateCommand().Run(
            ["-m", _model.Folder, "-p", "two cats", "-W", "32", "-H", "32", "--seed", "7", "-n", "2", "-o", dir.File("cat.png")], output, error, stop.Token);

        Assert.Equal((true, false), existedAtFirstReport);
        Assert.Equal(CliApp.ExitFailure, code);
        Assert.Contains("cancelled; 1 of 2 images written", error.ToString());
        Assert.Equal("7", PngText(File.ReadAllBytes(first))["seed"]);
        Assert.Equal([first], Directory.GetFiles(dir.Path)); // no second image, no temporary file
    }

    [Fact]
    public void EditsWithTwoReferenceImages()
    {
        using var dir = new TempDirectory();
        var ref1 = dir.File("ref1.png");
        var ref2 = dir.File("ref2.png");
        File.WriteAllBytes(ref1, PngWriter.Encode(Pattern(70, 64), []));
        File.WriteAllBytes(ref2, PngWriter.Encode(Pattern(64, 96), []));
        var output = dir.File("edit.png");
        var result = Generate("-p", "put them together", "-i", ref1, "-i", ref2, "--seed", "1", "-o", output);
        Assert.True(result.ExitCode == 0, result.Error);
        var image = ImageFileReader.Read(output);
        Assert.Equal((64, 64), (image.Width, image.Height)); // the first reference, center-cropped to 64x64
        Assert.Contains("ref1.png", PngText(File.ReadAllBytes(output))["reference_images"]);
    }

    [Fact]
    public void DistilledKleinRejectsOtherStepCountsUnlessAllowed()
    {
        using var dir = new TempDirectory();
        var rejected = Generate("-p", "x", "-W", "32", "-H", "32", "--steps", "2", "-o", dir.File("a.png"));
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("4 steps", Assert.Single(rejected.ErrorLines));
        var allowed = Generate("-p", "x", "-W", "32", "-H", "32", "--steps", "2", "--allow-any-steps", "-o", dir.File("a.png"));
        Assert.True(allowed.ExitCode == 0, allowed.Error);
        Assert.Contains("step 2/2", allowed.Error);
    }

    [Fact]
    public void OverLongPromptsAreTruncatedWithANoteOrRejectedWhenStrict()
    {
        using var dir = new TempDirectory();
        var longPrompt = string.Join(' ', Enumerable.Repeat("fox", 600));
        var truncated = Generate("-p", longPrompt, "-W", "32", "-H", "32", "--seed", "1", "-o", dir.File("a.png"));
        Assert.True(truncated.ExitCode == 0, truncated.Error);
        Assert.Contains("only the first 512", truncated.Error);
        var strict = Generate("-p", longPrompt, "-W", "32", "-H", "32", "--seed", "1", "--strict-prompt", "-o", dir.File("b.png"));
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("more than the maximum of 512", Assert.Single(strict.ErrorLines));
        Assert.False(File.Exists(dir.File("b.png")));
    }

    [Fact]
    public void MissingModelFolder()
    {
        using var dir = new TempDirectory();
        var missing = dir.File("no-such-model");
        var result = CliTestHost.Run("generate", "-m", missing, "-p", "x", "-o", dir.File("a.png"));
        AssertOneLineFailure(result, dir, missing);
    }

    [Fact]
    public void MissingComponent()
    {
        using var modelDir = new TempDirectory();
        using var dir = new TempDirectory();
        var model = modelDir.Path;
        Directory.CreateDirectory(Path.Combine(model, "transformer"));
        File.WriteAllText(Path.Combine(model, "model_index.json"), """{"_class_name": "Flux2KleinPipeline", "is_distilled": true}""");
        var result = CliTestHost.Run("generate", "-m", model, "-p", "x", "-o", dir.File("a.png"));
        AssertOneLineFailure(result, dir, "vae/");
    }

    [Fact]
    public void NonImageReference()
    {
        using var dir = new TempDirectory();
        var notImage = dir.File("notes.png");
        File.WriteAllText(notImage, "hello");
        AssertOneLineFailure(Generate("-p", "x", "-i", notImage, "-o", dir.File("a.png")), dir, notImage, except: notImage);
        var missing = dir.File("absent.png");
        AssertOneLineFailure(Generate("-p", "x", "-i", missing, "-o", dir.File("a.png")), dir, missing, except: notImage);
    }

    [Fact]
    public void TooSmallReference()
    {
        using var dir = new TempDirectory();
        var small = dir.File("small.png");
        File.WriteAllBytes(small, PngWriter.Encode(Pattern(32, 80), []));
        AssertOneLineFailure(Generate("-p", "x", "-i", small, "-o", dir.File("a.png")), dir, "at least 64", except: small);
    }

    [Theory]
    [InlineData("-W", "100", "multiple of 16")]
    [InlineData("-H", "40", "multiple of 16")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--steps", "-3", "--steps")]
    [InlineData("--seed", "-1", "--seed")]
    [InlineData("--guidance", "abc", "--guidance")]
    [InlineData("--reference-cap", "huge", "--reference-cap")]
    [InlineData("--bogus", "1", "--bogus")]
    [InlineData("--device", "tpu", "--device")]
    [InlineData("--text-encoder-device", "cuda:x", "--text-encoder-device")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--batch", "0", "--batch")]
    [InlineData("--batch", "65", "--batch")]
    public void InvalidOptions(string option, string value, string mentioned)
    {
        using var dir = new TempDirectory();
        AssertOneLineFailure(Generate("-p", "x", option, value, "-o", dir.File("a.png")), dir, mentioned);
    }

    [Theory]
    [InlineData("--device", "gpu:99: ")]
    [InlineData("--text-encoder-device", "the text encoder's device: gpu:99: ")]
    public void AGpuThatCannotBeUsedIsOneLineNamingTheDevice(string option, string named)
    {
        // Here: no driver (the line names the folders searched); on a one-GPU machine: no device 99.
        using var dir = new TempDirectory();
        var result = Generate("-p", "x", "-W", "32", "-H", "32", option, "cuda:99", "-o", dir.File("a.png"));
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("flux2 generate: error: " + named, Assert.Single(result.ErrorLines));
        Assert.Empty(Directory.EnumerateFiles(dir.Path));
    }

    [Fact]
    public void TheTextEncoderOnAnotherDeviceWritesTheSameImage()
    {
        // The transformer and the VAE on the opaque backend's simulated GPU, the text encoder on the CPU: the prompt crosses.
        using var dir = new TempDirectory();
        string[] args = FoxArgs;
        Assert.Equal(0, CliTestHost.Run([.. args, "-o", dir.File("cpu.png")]).ExitCode);
        var split = CliTestHost.RunOn(TestBackends.TwoDevices(), [.. args, "--device", "cuda:7", "--text-encoder-device", "cpu", "-o", dir.File("split.png")]);
        Assert.True(split.ExitCode == 0, split.Error);
        Assert.Equal(ImageFileReader.Read(dir.File("cpu.png")).Pixels, ImageFileReader.Read(dir.File("split.png")).Pixels);
    }

    /// <summary>Without --text-encoder-device, a text encoder too large for what the GPU has free runs on the CPU, with a
    /// warning; named explicitly, it stays where it is put.</summary>
    [Fact]
    public void ATextEncoderTooLargeForTheGpuRunsOnTheCpu()
    {
        using var dir = new TempDirectory();
        string[] args = [.. FoxArgs, "--device", "cuda:7"];
        Assert.Equal(0, CliTestHost.Run([.. FoxArgs, "-o", dir.File("cpu.png")]).ExitCode);
        var full = TestBackends.TwoDevices(gpuFreeBytes: 0);
        var moved = CliTestHost.RunOn(full, [.. args, "-o", dir.File("moved.png")]);
        Assert.True(moved.ExitCode == 0, moved.Error);
        Assert.Matches(@"^flux2 generate: warning: the text encoder's weights \(.*\) do not fit in the 0\.0 GB free on gpu:7 .*; it runs on cpu:0$",
            Assert.Single(moved.ErrorLines, l => l.Contains("warning")));
        Assert.Equal(ImageFileReader.Read(dir.File("cpu.png")).Pixels, ImageFileReader.Read(dir.File("moved.png")).Pixels);

        var kept = CliTestHost.RunOn(full, [.. args, "--text-encoder-device", "cuda:7", "-o", dir.File("kept.png")]);
        Assert.True(kept.ExitCode == 0, kept.Error);
        Assert.DoesNotContain(kept.ErrorLines, l => l.Contains("warning"));
    }

    [Fact]
    public void TheOpaqueBackendWritesTheSameImage()
    {
        // generate end to end (prompt encoding, denoising, decoding, PNG) on memory the command cannot see into.
        using var dir = new TempDirectory();
        string[] args = FoxArgs;
        Assert.Equal(0, CliTestHost.Run([.. args, "-o", dir.File("cpu.png")]).ExitCode);
        var opaque = CliTestHost.RunOn(TestBackends.Opaque, [.. args, "-o", dir.File("opaque.png")]);
        Assert.True(opaque.ExitCode == 0, opaque.Error);
        Assert.Equal(ImageFileReader.Read(dir.File("cpu.png")).Pixels, ImageFileReader.Read(dir.File("opaque.png")).Pixels);
    }

    [Fact]
    public void MissingOutputDirectory()
    {
        using var dir = new TempDirectory();
        var output = Path.Combine(dir.Path, "missing", "a.png");
        AssertOneLineFailure(Generate("-p", "x", "-o", output), dir, Path.Combine(dir.Path, "missing"));
    }

    [Fact]
    public void AnUnwritableOutputFolderOrADirectoryFailsBeforeTheModelLoads()
    {
        // /proc takes no new files, not even from root.
        var result = Generate("-p", "x", "-W", "32", "-H", "32", "-o", "/proc/flux2-out.png");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("flux2 generate: error: option --output: cannot write to /proc (", Assert.Single(result.ErrorLines));
        Assert.DoesNotContain("seed:", result.Output); // refused before loading

        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("out.png"));
        result = Generate("-p", "x", "-o", dir.File("out.png"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is a directory", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void AJobThatDoesNotFitInMemoryIsRefusedBeforeItStarts()
    {
        using var dir = new TempDirectory();
        var output = new StringWriter();
        var error = new StringWriter();
        var e = Assert.Throws<Flux2.Pipelines.PipelineException>(() => new GenerateCommand(memoryBytes: 64L << 20).Run(
            ["-m", _model.Folder, "-p", "x", "-W", "2048", "-H", "2048", "-o", dir.File("big.png")], output, error));
        Assert.Matches(@"^a 2048x2048 image needs about [\d.]+ [GM]iB of working memory besides the weights, more than the 64 MiB this machine has", e.Message);
        Assert.DoesNotContain("step", error.ToString());
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void TheRequestBudgetAndThePromptsAreCheckedBeforeGenerating()
    {
        using var dir = new TempDirectory();
        var result = Generate("-p", "x", "-W", "8192", "-H", "8192", "-n", "16", "-o", dir.File("a.png"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("16 image(s) of 8192x8192 are 1073741824 pixels, more than the 67108864-pixel budget of one request", Assert.Single(result.ErrorLines));
        result = Generate("-p", new string('a', 70_000), "-W", "32", "-H", "32", "-o", dir.File("a.png"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("option --prompt: the prompt is 70000 characters long, more than the 65536 read", Assert.Single(result.ErrorLines));
        Assert.DoesNotContain("seed:", result.Output); // refused before loading
        result = Generate("-p", "x", "--negative-prompt", "\u0007", "-o", dir.File("a.png"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("option --negative-prompt: the prompt holds U+0007 at character 1", Assert.Single(result.ErrorLines));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ExistingOutputIsNotOverwrittenWithoutForce()
    {
        using var dir = new TempDirectory();
        var output = dir.File("a.png");
        File.WriteAllText(output, "keep me");
        var result = Generate("-p", "x", "-W", "32", "-H", "32", "-o", output);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--force", Assert.Single(result.ErrorLines));
        Assert.Equal("keep me", File.ReadAllText(output));
    }

    [Fact]
    public void HelpDocumentsEveryOption()
    {
        var help = CliTestHost.Run("generate", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var option in new[] { "--model", "--prompt", "--image", "--width", "--height", "--steps", "--guidance", "--seed",
                     "--num-images", "--batch", "--output", "--negative-prompt", "--device", "--text-encoder-device", "--threads", "--verbose", "--force", "Example" })
            Assert.Contains(option, help.Output);
    }

    /// <summary>One error line naming <paramref name="mentioned"/>, a non-zero exit code, and no file left in the folder.</summary>
    private static void AssertOneLineFailure(CliResult result, TempDirectory dir, string mentioned, string? except = null)
    {
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("flux2 generate: error: ", line);
        Assert.Contains(mentioned, line);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories), f => f != except);
    }

    /// <summary>Captures lines and hands each to <paramref name="onLine"/> as it is written.</summary>
    private sealed class LineWatchingWriter(Action<string> onLine) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            onLine(value ?? "");
        }
    }

    private static RgbImage Pattern(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 31 % 251);
        return new RgbImage(width, height, pixels);
    }
}
