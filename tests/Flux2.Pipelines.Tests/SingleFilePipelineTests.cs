using Flux2.Core;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>The tiny klein model as single files (a BFL transformer, ae.safetensors, a text encoder without config.json or
/// tokenizer) runs as the diffusers folder does; wrong pairs are refused before any weights are loaded.</summary>
public sealed class SingleFilePipelineTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    private static GenerationRequest Request => new() { Prompt = "a red fox", Width = 32, Height = 32, Seed = 3 };

    [Fact]
    public void BflFilesAndAnEncoderWithoutConfigOrTokenizerGiveTheFoldersImage()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        using var files = TestPipeline.Assemble(new PipelineComponents { Transformer = transformer, Vae = vae, TextEncoder = textEncoder });
        Assert.Equal(PipelineVariant.KleinDistilled, files.Variant); // from the BFL file name
        using var folder = TestPipeline.Load(model.Folder);
        Assert.Equal(folder.Generate(Request).Images[0].Image.Pixels, files.Generate(Request).Images[0].Image.Pixels);
    }

    [Fact]
    public void ABflKvFileNameIsKleinKv()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var kv = Path.Combine(dir.Path, "flux-2-klein-9b-kv.safetensors");
        File.Move(transformer, kv);
        using var files = TestPipeline.Assemble(new PipelineComponents { Transformer = kv, Vae = vae, TextEncoder = textEncoder });
        Assert.Equal(PipelineVariant.KleinKv, files.Variant);
    }

    [Fact]
    public void AnEncoderThatDoesNotFitIsRefusedBeforeLoading()
    {
        using var dir = new TempDirectory();
        var (transformer, _, _) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        // The golden tiny Qwen3 (hidden 64: 192 features) for the tiny klein transformer (48). The VAE path leads nowhere:
        // the encoder is refused before the VAE (or any other weights) would be loaded.
        var e = Assert.Throws<PipelineException>(() => TestPipeline.Assemble(new PipelineComponents
        {
            Transformer = transformer,
            Vae = dir.File("no-such-vae.safetensors"),
            TextEncoder = Fixtures.Golden("te_qwen3_klein.safetensors"),
        }));
        Assert.Contains("(Qwen3, hidden size 64) gives 3 x 64 = 192 features per token", e.Message);
        Assert.Contains("reads joint_attention_dim 48: it needs an encoder of hidden size 16", e.Message);
    }

    [Fact]
    public void AVariantThatContradictsTheTransformerIsRefused()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var e = Assert.Throws<PipelineException>(() => TestPipeline.Assemble(new PipelineComponents
        {
            Transformer = transformer, Vae = vae, TextEncoder = textEncoder, Variant = PipelineVariant.Dev,
        }));
        Assert.Contains("a klein transformer (it has no guidance embedder) cannot run as dev", e.Message);
        using var pipeline = TestPipeline.Assemble(new PipelineComponents
        {
            Transformer = transformer, Vae = vae, TextEncoder = textEncoder, Variant = PipelineVariant.KleinBase,
        });
        Assert.Equal(PipelineVariant.KleinBase, pipeline.Variant);
    }

    /// <summary>A dev transformer reading the golden tiny Mistral (hidden 64): tiny_dev with a random 192-wide txt_in.</summary>
    private static string DevTransformerForTheGoldenMistral(TempDirectory dir)
    {
        var transformer = dir.File("flux2-dev.safetensors");
        var random = new Random(7);
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("tiny_dev.bfl.safetensors"), transformer, v => v.Name == "txt_in.weight"
            ? (v.Name, DType.Float32, [v.Shape[0], 192],
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.Range(0, (int)v.Shape[0] * 192)
                    .Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f).ToArray().AsSpan()).ToArray())
            : SafeTensorsRewrite.Keep(v));
        return transformer;
    }

    /// <summary>The golden tiny Mistral as a transformers folder.</summary>
    private static string GoldenMistralFolder(TempDirectory dir)
    {
        var encoder = Path.Combine(dir.Path, "mistral");
        Directory.CreateDirectory(encoder);
        File.WriteAllText(Path.Combine(encoder, "config.json"), GoldenRepository.ConfigJson("te_mistral_dev"));
        File.Copy(Fixtures.Golden("te_mistral_dev.safetensors"), Path.Combine(encoder, "model.safetensors"));
        return encoder;
    }

    [Fact]
    public void AMistralGgufEncoderCarriesItsTokenizerAndGivesItsFoldersImage()
    {
        // The golden tiny Mistral and a tekken vocabulary that fits its 1024 ids, as llama.cpp converts them into one file
        // (rows of q/k permuted, tokens and merges in the metadata): the image of the folder with its tekken.json.
        using var dir = new TempDirectory();
        var transformer = DevTransformerForTheGoldenMistral(dir);
        var encoder = GoldenMistralFolder(dir);
        string tekken = SyntheticTekken.Json(specials: 20);
        var tokenizer = Path.Combine(dir.Path, "tokenizer");
        Directory.CreateDirectory(tokenizer);
        File.WriteAllText(Path.Combine(tokenizer, "tekken.json"), tekken);
        var gguf = dir.File("Mistral-Small-3.2-24B-Instruct-2506-Q8_0.gguf");
        var config = System.Text.Json.Nodes.JsonNode.Parse(GoldenRepository.ConfigJson("te_mistral_dev"))!.AsObject();
        LlamaCppTokenizerMetadata.FromTekken(LlamaCppTextEncoderGguf.Convert(Path.Combine(encoder, "model.safetensors"), config, "llama"), tekken)
            .Write(gguf);

        var request = new GenerationRequest { Prompt = "a cat, 中 You", Width = 32, Height = 32, Seed = 3, Steps = 2 };
        var vae = Fixtures.Golden("vae_small.bfl.safetensors");
        using var folder = TestPipeline.Assemble(new PipelineComponents { Transformer = transformer, Vae = vae, TextEncoder = encoder, Tokenizer = tokenizer });
        using var file = TestPipeline.Assemble(new PipelineComponents { Transformer = transformer, Vae = vae, TextEncoder = gguf });
        Assert.Equal(PipelineVariant.Dev, file.Variant);
        var expected = folder.Generate(request).Images[0].Image.Pixels;
        Assert.Equal(expected, file.Generate(request).Images[0].Image.Pixels);
        // The prompt reaches the image: another one changes it.
        Assert.NotEqual(expected, file.Generate(request with { Prompt = "a dog" }).Images[0].Image.Pixels);
    }

    [Fact]
    public void AMistralEncoderWithoutItsTokenizerIsOneClearError()
    {
        using var dir = new TempDirectory();
        var transformer = DevTransformerForTheGoldenMistral(dir);
        var encoder = GoldenMistralFolder(dir);
        var e = Assert.Throws<PipelineException>(() => TestPipeline.Assemble(new PipelineComponents
        {
            Transformer = transformer, Vae = Fixtures.Golden("vae_small.bfl.safetensors"), TextEncoder = encoder,
        }));
        Assert.Contains($"text encoder {encoder} needs its tokenizer folder", e.Message);
        Assert.Contains("--tokenizer DIR), or a GGUF file that carries one; only the Qwen3 tokenizer is built in", e.Message);
    }
}
