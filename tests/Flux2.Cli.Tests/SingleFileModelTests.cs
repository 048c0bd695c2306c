using Flux2.Core;
using Flux2.Models;
using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary>generate and info given the components as single files (--transformer, --vae, --text-encoder, --tokenizer), as
/// BFL, ComfyUI and stable-diffusion.cpp distribute them: the tiny klein model written as BFL-named files.</summary>
public sealed class SingleFileModelTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    private static readonly string[] Small = ["-p", "a red fox", "-W", "32", "-H", "32", "--seed", "5"];

    private static byte[] Pixels(string png) => ImageFileReader.Read(png).Pixels;

    /// <summary>generate from the three component files into <paramref name="output"/> in <paramref name="dir"/>.</summary>
    private static CliResult Generate(TempDirectory dir, string transformer, string vae, string textEncoder, string output) =>
        CliTestHost.Run(["generate", "--transformer", transformer, "--vae", vae, "--text-encoder", textEncoder, .. Small, "-o", dir.File(output)]);

    [Fact]
    public void BflFilesGiveTheFoldersImageAndFp8Nvfp4AndComfyUiFilesRun()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        CliResult Generate(string transformerFile, string output) => SingleFileModelTests.Generate(dir, transformerFile, vae, textEncoder, output);

        var folder = CliTestHost.Run(["generate", "-m", model.Folder, .. Small, "-o", dir.File("folder.png")]);
        Assert.True(folder.ExitCode == 0, folder.Error);
        var files = Generate(transformer, "files.png");
        Assert.True(files.ExitCode == 0, files.Error);
        Assert.Equal(Pixels(dir.File("folder.png")), Pixels(dir.File("files.png")));
        Assert.Equal("flux-2-klein-4b.safetensors (klein (distilled))", TestImages.PngText(File.ReadAllBytes(dir.File("files.png")))["model"]);

        // ComfyUI prefixes every key with model.diffusion_model.: the same model.
        var comfy = dir.File("comfy/flux-2-klein-4b.safetensors");
        SafeTensorsRewrite.Rewrite(transformer, comfy, v => ("model.diffusion_model." + v.Name, v.DType, v.Shape, v.ToByteArray()));
        Assert.Equal(0, Generate(comfy, "comfy.png").ExitCode);
        Assert.Equal(Pixels(dir.File("files.png")), Pixels(dir.File("comfy.png")));

        foreach (var format in new[] { "fp8", "nvfp4" })
        {
            var quantized = dir.File($"flux-2-klein-4b-{format}.safetensors");
            Assert.Equal(0, CliTestHost.Run("quantize", "--format", format, transformer, quantized).ExitCode);
            var r = Generate(quantized, $"{format}.png");
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal((32, 32), (ImageFileReader.Read(dir.File($"{format}.png")).Width, ImageFileReader.Read(dir.File($"{format}.png")).Height));
        }
    }

    [Fact]
    public void AGgufTransformerGivesTheImageOfItsDecodedWeights()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        // The ggml-quantized tiny klein, its text embedder (F16 in the fixture) the tiny encoder's width, as F32.
        var gguf = dir.File("flux-2-klein-4b-Q4_K_M.gguf");
        using (var fixture = Core.Gguf.GgufFile.Open(Fixtures.File("gguf", "tiny_klein.gguf")))
        using (var bfl = Core.SafeTensors.SafeTensorsFile.Open(transformer))
        {
            var txtIn = bfl.Get("txt_in.weight");
            GgufBuilder.CopyOf(fixture, n => n != "txt_in.weight")
                .Tensor("txt_in.weight", Core.Gguf.GgmlType.F32, [txtIn.Shape[1], txtIn.Shape[0]],
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(txtIn.ToFloat32Array().AsSpan()).ToArray())
                .Write(gguf);
        }
        var decoded = dir.File("decoded/flux-2-klein-4b.safetensors");
        GgufDecoding.WriteDecoded(gguf, decoded);
        CliResult Generate(string transformerFile, string output) => SingleFileModelTests.Generate(dir, transformerFile, vae, textEncoder, output);

        var fromGguf = Generate(gguf, "gguf.png");
        Assert.True(fromGguf.ExitCode == 0, fromGguf.Error);
        Assert.Equal(0, Generate(decoded, "decoded.png").ExitCode);
        Assert.Equal(Pixels(dir.File("decoded.png")), Pixels(dir.File("gguf.png")));
        Assert.Equal("flux-2-klein-4b-Q4_K_M.gguf (klein (distilled))", TestImages.PngText(File.ReadAllBytes(dir.File("gguf.png")))["model"]);

        var info = CliTestHost.Run("info", "--json", gguf);
        Assert.True(info.ExitCode == 0, info.Error);
        using var json = System.Text.Json.JsonDocument.Parse(info.Output);
        Assert.Equal("single GGUF file", json.RootElement.GetProperty("layout").GetString());
        var formats = json.RootElement.GetProperty("components")[0].GetProperty("transformer").GetProperty("quantized_linears").EnumerateArray()
            .Select(q => q.GetProperty("format").GetString()).ToHashSet();
        Assert.Equal(["Q4_0", "Q4_1", "Q4_K", "Q5_0", "Q5_1", "Q5_K", "Q6_K", "Q8_0"], formats.Order());
    }

    [Fact]
    public void ALlamaCppGgufTextEncoderGivesTheImageOfItsSafetensorsFile()
    {
        // The tiny klein's Qwen3 encoder as llama.cpp converts one (Qwen3-4B-Q4_K_M.gguf and the like), its values unchanged.
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(model.Folder, "text_encoder", "config.json")))!.AsObject();
        var gguf = dir.File("Qwen3-4B-Q4_K_M.gguf");
        LlamaCppTextEncoderGguf.Convert(textEncoder, config, "qwen3").Write(gguf);
        CliResult Generate(string encoder, string output) => SingleFileModelTests.Generate(dir, transformer, vae, encoder, output);

        var fromGguf = Generate(gguf, "gguf.png");
        Assert.True(fromGguf.ExitCode == 0, fromGguf.Error);
        Assert.Equal(0, Generate(textEncoder, "safetensors.png").ExitCode);
        Assert.Equal(Pixels(dir.File("safetensors.png")), Pixels(dir.File("gguf.png")));

        var info = CliTestHost.Run("info", "--transformer", transformer, "--vae", vae, "--text-encoder", gguf);
        Assert.True(info.ExitCode == 0, info.Error + info.Output);
        Assert.Contains("configuration:           inferred from tensor shapes and GGUF metadata", info.Output);
        Assert.Contains("validation:              298 of 298 required tensors present, no issues", info.Output);
        var alone = CliTestHost.Run("info", gguf);
        Assert.True(alone.ExitCode == 0, alone.Error + alone.Output);
        Assert.Contains("layout:                  single GGUF file", alone.Output);
        Assert.Contains("text encoder", alone.Output);

        // The tokenizer the file carries is the one used: the real Qwen3 vocabulary gives the same image, a split pattern
        // that is not known stops before anything runs.
        string tokenizerJson = Path.Combine(model.Folder, "tokenizer", "tokenizer.json");
        var withTokenizer = dir.File("with-tokenizer/Qwen3-4B-Q8_0.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(withTokenizer)!);
        LlamaCppTokenizerMetadata.FromTokenizerJson(LlamaCppTextEncoderGguf.Convert(textEncoder, config, "qwen3"), tokenizerJson,
            TinyModelFolders.TextVocab, "qwen2").Write(withTokenizer);
        Assert.Equal(0, Generate(withTokenizer, "own-tokenizer.png").ExitCode);
        Assert.Equal(Pixels(dir.File("safetensors.png")), Pixels(dir.File("own-tokenizer.png")));
        var carried = CliTestHost.Run("info", "--text-encoder", withTokenizer, "--tokenizer", withTokenizer);
        Assert.True(carried.ExitCode == 0, carried.Error + carried.Output);
        Assert.Contains("tokenizer:               carried in the GGUF file (tokenizer.ggml.*)", carried.Output);
        var none = CliTestHost.Run("info", "--tokenizer", gguf);
        Assert.Contains($"{gguf} carries no tokenizer (no tokenizer.ggml.* metadata)", none.Output);
        var unknownPre = dir.File("unknown-pre/Qwen3-4B-Q8_0.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(unknownPre)!);
        LlamaCppTokenizerMetadata.FromTokenizerJson(LlamaCppTextEncoderGguf.Convert(textEncoder, config, "qwen3"), tokenizerJson,
            TinyModelFolders.TextVocab, "qwen35").Write(unknownPre);
        var refused = Generate(unknownPre, "never.png");
        Assert.Equal(CliApp.ExitFailure, refused.ExitCode);
        Assert.Contains($"{unknownPre}: tokenizer.ggml.pre is 'qwen35', whose split pattern is not known here", Assert.Single(refused.ErrorLines));
        Assert.False(File.Exists(dir.File("never.png")));
    }

    [Fact]
    public void AGivenTokenizerFolderAndVariantAreUsed()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var renamed = dir.File("my-model.safetensors");
        File.Copy(transformer, renamed);
        string[] files = ["--transformer", renamed, "--vae", vae, "--text-encoder", textEncoder, "--tokenizer", Path.Combine(model.Folder, "tokenizer")];

        // A name that says nothing needs --variant.
        var unnamed = CliTestHost.Run(["generate", .. files, .. Small, "-o", dir.File("a.png")]);
        Assert.Equal(CliApp.ExitFailure, unnamed.ExitCode);
        Assert.Contains("the files do not say whether it is distilled or base", Assert.Single(unnamed.ErrorLines));
        var r = CliTestHost.Run(["generate", .. files, "--variant", "klein-base", "--steps", "2", .. Small, "-o", dir.File("b.png")]);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal("my-model.safetensors (klein-base)", TestImages.PngText(File.ReadAllBytes(dir.File("b.png")))["model"]);
    }

    [Fact]
    public void AKlein9BTransformerWithAQwen3_4BEncoderIsOneLineBeforeAnythingLoads()
    {
        // Real sizes, sparse files: the 9B transformer reads 3 x 4096 features, Qwen3-4B gives 3 x 2560.
        using var dir = new TempDirectory();
        var transformer = dir.File("flux-2-klein-9b.safetensors");
        SparseSafeTensors.Write(transformer, Flux2WeightMap.ExpectedTensors(Flux2Config.Klein9B(), TensorNaming.Bfl).Select(e => (e.Name, DType.BFloat16, e.Shape)));
        var qwen4B = TextEncoderConfig.FromJsonFile(Fixtures.File("configs", "flux2-klein-4b", "text_encoder", "config.json"));
        var encoder = dir.File("qwen_3_4b.safetensors");
        SparseSafeTensors.Write(encoder, TextEncoderWeights.ExpectedTensors(qwen4B, qwen4B.NumLayers).Select(t => ("model." + t.Name, DType.BFloat16, t.Shape)));

        var r = CliTestHost.Run(["generate", "--transformer", transformer, "--vae", dir.File("ae-not-read.safetensors"), "--text-encoder", encoder, .. Small,
            "-o", dir.File("x.png")]);
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        Assert.Equal($"flux2 generate: error: the text encoder {encoder} (Qwen3-4B, hidden size 2560) gives 3 x 2560 = 7680 features per token, " +
            $"but the transformer {transformer} reads joint_attention_dim 12288: it needs an encoder of hidden size 4096 (Qwen3-8B)", Assert.Single(r.ErrorLines));
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Theory]
    [InlineData(new[] { "-m", "x", "--transformer", "t" }, "give either --model or the component files")]
    [InlineData(new[] { "--transformer", "t", "--text-encoder", "e" }, "missing --vae")]
    [InlineData(new[] { "--tokenizer", "d" }, "missing --transformer")]
    [InlineData(new[] { "--transformer", "t", "--vae", "v", "--text-encoder", "e", "--variant", "schnell" }, "option --variant: 'schnell' is not one of dev, klein, klein-base, klein-kv")]
    public void ComponentOptionMistakesExitTwo(string[] options, string expected)
    {
        var r = CliTestHost.Run(["generate", "-p", "x", .. options]);
        Assert.Equal(CliApp.ExitUsage, r.ExitCode);
        Assert.Contains(expected, Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void InfoInspectsTheFilesAsGenerateReadsThem()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var r = CliTestHost.Run("info", "--transformer", transformer, "--vae", vae, "--text-encoder", textEncoder, "--tokenizer", Path.Combine(model.Folder, "tokenizer"));
        Assert.True(r.ExitCode == 0, r.Error + r.Output);
        Assert.Contains("layout:                  separate component files", r.Output);
        Assert.Contains("variant:                 custom", r.Output);
        foreach (var header in new[] { "[transformer] transformer (DiT)", "[vae] VAE", "[text_encoder] text encoder", "[tokenizer] tokenizer" })
            Assert.Contains(header, r.Output);
        Assert.Contains("configuration:           inferred from tensor shapes", r.Output);
        Assert.Contains("validation:              298 of 298 required tensors present, no issues", r.Output); // the encoder's 27 layers
        Assert.DoesNotContain("warning:", r.Output);
    }

    [Fact]
    public void InfoSaysWhatAWrongFileHoldsAndWhatDoesNotFit()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, _) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var swapped = CliTestHost.Run("info", "--transformer", transformer, "--vae", transformer);
        Assert.Equal(CliApp.ExitFailure, swapped.ExitCode);
        Assert.Contains("declared a VAE ('vae') but the weights hold a transformer (DiT)", swapped.Output);
        Assert.Contains("the given components are incomplete: 1 problem", Assert.Single(swapped.ErrorLines));

        var misfit = CliTestHost.Run("info", "--transformer", transformer, "--vae", vae, "--text-encoder", Fixtures.Golden("te_qwen3_klein.safetensors"));
        Assert.Contains("warning:                 the text encoder", misfit.Output);
        Assert.Contains("gives 3 x 64 = 192 features per token, but the transformer", misfit.Output);

        var both = CliTestHost.Run("info", transformer, "--vae", vae);
        Assert.Equal(CliApp.ExitUsage, both.ExitCode);
        Assert.Contains($"unexpected argument '{transformer}'", Assert.Single(both.ErrorLines));
    }
}
