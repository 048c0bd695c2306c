using System.Text.Json;
using Flux2.Core;
using Flux2.Models;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class InfoCommandTests
{
    [Theory]
    [InlineData("tiny_dev.bfl.safetensors", "transformer (DiT)", "BFL")]
    [InlineData("tiny_klein.diffusers.safetensors", "transformer (DiT)", "diffusers")]
    [InlineData("head128.bfl.safetensors", "transformer (DiT)", "BFL")]
    [InlineData("nvfp4_dev.bfl.safetensors", "transformer (DiT)", "BFL")]
    [InlineData("nvfp4_dev_nometa.bfl.safetensors", "transformer (DiT)", "BFL")]
    [InlineData("fp8_klein.bfl.safetensors", "transformer (DiT)", "BFL")]
    [InlineData("vae_small.bfl.safetensors", "VAE", "BFL")]
    [InlineData("vae_small.diffusers.safetensors", "VAE", "diffusers")]
    [InlineData("te_qwen3_klein.safetensors", "text encoder", "transformers (Qwen3, prefix 'model.')")]
    public void GoldenFilesAreCompleteAndExitZero(string file, string kind, string naming)
    {
        var r = CliTestHost.Run("info", Fixtures.Golden(file));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Error);
        Assert.Contains("layout:                  single safetensors file", r.Output);
        Assert.Contains("status:                  complete", r.Output);
        Assert.Contains($"] {kind}", r.Output);
        Assert.Contains($"naming:                  {naming}", r.Output);
    }

    /// <summary>A text_encoder/ folder: the golden case's config.json beside its weights, without the tensor <paramref name="removed"/>.</summary>
    private static string TextEncoderFolder(string root, string caseName, string? removed = null)
    {
        var folder = Path.Combine(root, "text_encoder");
        GoldenRepository.Text(Path.Combine(folder, "config.json"), GoldenRepository.ConfigJson(caseName));
        SafeTensorsRewrite.Without(Fixtures.Golden(caseName + ".safetensors"), Path.Combine(folder, "model.safetensors"), removed ?? "");
        return folder;
    }

    [Theory]
    [InlineData("te_qwen3_klein", "298 of 298")]
    [InlineData("te_mistral_dev", "271 of 271")]
    public void GoldenTextEncodersWithTheirConfigAreValidatedAndComplete(string caseName, string counts)
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run("info", TextEncoderFolder(dir.Path, caseName));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("status:                  complete", r.Output);
        Assert.Contains($"validation:              {counts} required tensors present, no issues", r.Output);
    }

    [Theory]
    [InlineData("vae_small.diffusers.safetensors", "decoder.up_blocks.0.resnets.0.conv1.weight")]
    [InlineData("vae_small.bfl.safetensors", "decoder.up.3.block.0.conv1.weight")]
    public void VaeMissingATensorNamesItAndFails(string file, string removed)
    {
        using var dir = new TempDirectory();
        var path = dir.File("ae.safetensors");
        SafeTensorsRewrite.Without(Fixtures.Golden(file), path, removed);
        var r = CliTestHost.Run("info", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("status:                  INCOMPLETE (1 problem)", r.Output);
        Assert.Contains("validation:              181 of 182 required tensors present, 1 issue", r.Output);
        Assert.Contains($"    missing:                 {removed}: expected BF16 or F16 or F32 [64, 64, 3, 3]", r.Output);
        Assert.Contains("is incomplete: 1 problem", Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void TextEncoderMissingATensorNamesItAndFails()
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run("info", TextEncoderFolder(dir.Path, "te_qwen3_klein", "model.layers.3.mlp.up_proj.weight"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("status:                  INCOMPLETE (1 problem)", r.Output);
        Assert.Contains("    missing:                 model.layers.3.mlp.up_proj.weight: expected BF16 or F16 or F32 [96, 64]", r.Output);

        var json = CliTestHost.Run("info", "--json", Path.Combine(dir.Path, "text_encoder"));
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Output);
        var validation = doc.RootElement.GetProperty("components")[0].GetProperty("validation");
        Assert.False(validation.GetProperty("complete").GetBoolean());
        var issue = Assert.Single(validation.GetProperty("issues").EnumerateArray());
        Assert.Equal("missing", issue.GetProperty("kind").GetString());
        Assert.Equal("model.layers.3.mlp.up_proj.weight", issue.GetProperty("name").GetString());
    }

    [Fact]
    public void TextEncoderWithAMisshapenTensorNamesItAndFails()
    {
        using var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, "text_encoder");
        GoldenRepository.Text(Path.Combine(folder, "config.json"), GoldenRepository.ConfigJson("te_mistral_dev"));
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("te_mistral_dev.safetensors"), Path.Combine(folder, "model.safetensors"),
            v => v.Name == "model.layers.12.mlp.down_proj.weight" ? (v.Name, v.DType, [v.Shape[1], v.Shape[0]], v.ToByteArray()) : SafeTensorsRewrite.Keep(v));
        var r = CliTestHost.Run("info", folder);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("    wrong shape:             model.layers.12.mlp.down_proj.weight: has shape [112, 64], expected [64, 112]", r.Output);
    }

    [Fact]
    public void TextReportShowsConfigQuantizationAndPlan()
    {
        var r = CliTestHost.Run("info", Fixtures.Golden("nvfp4_dev.bfl.safetensors"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Flux2Config:             inferred from tensor shapes", r.Output);
        Assert.Contains("    joint_attention_dim:     64", r.Output);
        Assert.Contains("    quant_config:            \"nvfp4\"", r.Output);
        Assert.Contains("encoding:                float4_e2m1fnx2", r.Output);
        Assert.Contains("quantized:               16 NVFP4 of 31 Linears", r.Output);
        Assert.Contains("    single_blocks.1.linear1: NVFP4 [1152, 128]", r.Output);
        Assert.Contains("    block 1:                 nvfp4 nvfp4 bf16 bf16 nvfp4 nvfp4", r.Output);
        Assert.Contains("U8:                      16 tensors", r.Output);
        Assert.Contains("validation:              75 of 75 required tensors present, no issues", r.Output);
    }

    [Fact]
    public void JsonReportIsMachineReadable()
    {
        var r = CliTestHost.Run("info", Fixtures.Golden("fp8_klein.bfl.safetensors"), "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("complete").GetBoolean());
        Assert.Equal("single safetensors file", root.GetProperty("layout").GetString());
        Assert.Equal(81, root.GetProperty("tensors").GetInt32());
        var c = root.GetProperty("components")[0];
        Assert.Equal("Transformer", c.GetProperty("kind").GetString());
        var t = c.GetProperty("transformer");
        Assert.Equal(2, t.GetProperty("config").GetProperty("num_attention_heads").GetInt32());
        Assert.False(t.GetProperty("config").GetProperty("guidance_embeds").GetBoolean());
        Assert.Equal(JsonValueKind.Null, t.GetProperty("config").GetProperty("out_channels").ValueKind);
        Assert.Equal("float8_e4m3fn", t.GetProperty("config").GetProperty("dtype").GetString());
        Assert.Equal(20, t.GetProperty("quantized_linears").GetArrayLength());
        Assert.Equal("FP8", t.GetProperty("quantized_linears")[0].GetProperty("format").GetString());
        Assert.Equal(20, t.GetProperty("quantization_metadata").EnumerateObject().Count());
        Assert.True(c.GetProperty("validation").GetProperty("complete").GetBoolean());
        var bytes = c.GetProperty("tensors").GetProperty("dtypes").EnumerateArray().Sum(d => d.GetProperty("bytes").GetInt64());
        Assert.Equal(root.GetProperty("bytes").GetInt64(), bytes);
    }

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedFilesPrintOneLineAndFail(MalformedCase c)
    {
        using var dir = new TempDirectory();
        var path = c.Create(dir.Path);
        var r = CliTestHost.Run("info", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Output);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith("flux2 info: error: ", line);
        Assert.Contains(c.File, line);
        Assert.Contains(c.Problem, line);
    }

    public static TheoryData<MalformedCase> MalformedCases => new(MalformedSafeTensors.All);

    [Fact]
    public void MalformedFileInsideARepositoryAlsoFailsWithOneLine()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        File.WriteAllBytes(Path.Combine(dir.Path, "vae", "diffusion_pytorch_model.safetensors"), MalformedSafeTensors.Raw("{\"a\":[]}", 0));
        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("vae", Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void RepositoryReportsEveryComponent()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("layout:                  diffusers repository (model_index.json: Flux2Pipeline, diffusers 0.36.0.dev0)", r.Output);
        Assert.Contains("architecture:            Flux2Pipeline", r.Output);
        foreach (var header in new[] { "[scheduler] scheduler (FlowMatchEulerDiscreteScheduler)", "[text_encoder] text encoder (Mistral3ForConditionalGeneration)",
                     "[tokenizer] tokenizer (PixtralProcessor)", "[transformer] transformer (DiT) (Flux2Transformer2DModel)", "[vae] VAE (AutoencoderKLFlux2)" })
            Assert.Contains(header, r.Output);

        var json = CliTestHost.Run("info", "--json", dir.Path);
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Output);
        var kinds = doc.RootElement.GetProperty("components").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("kind").GetString());
        Assert.Equal("Transformer", kinds["transformer"]);
        Assert.Equal("Vae", kinds["vae"]);
        Assert.Equal("TextEncoder", kinds["text_encoder"]);
        Assert.Equal("Tokenizer", kinds["tokenizer"]);
        Assert.Equal("Scheduler", kinds["scheduler"]);
    }

    [Fact]
    public void IncompleteRepositoryPrintsTheReportAndFails()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        File.Delete(Path.Combine(dir.Path, "text_encoder", "model.safetensors"));
        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("status:                  INCOMPLETE (1 problem)", r.Output);
        Assert.Contains("problem:                 no weights in", r.Output);
        Assert.Contains("is incomplete: 1 problem", Assert.Single(r.ErrorLines));
        using var doc = JsonDocument.Parse(CliTestHost.Run("info", dir.Path, "--json").Output);
        Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
    }

    [Theory]
    [InlineData("tokenizer.json", "", "not valid JSON")]
    [InlineData("tokenizer.json", "garbage", "not valid JSON")]
    [InlineData("tokenizer.json", "{}", "tokenizer.json")]
    [InlineData("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": 5}}", "tokenizer.json")]
    [InlineData("tokenizer_config.json", "", "not valid JSON")]
    [InlineData("tokenizer_config.json", "[1, 2]", "tokenizer_config.json")]
    [InlineData("tokenizer_config.json", "{\"padding_side\": \"middle\"}", "padding_side")]
    [InlineData("tokenizer_config.json", "{\"pad_token\": \"<no such token>\"}", "pad token")]
    public void UnusableTokenizerFilesAreAProblem(string file, string content, string expected)
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer", file), content);
        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is incomplete: 1 problem", Assert.Single(r.ErrorLines));
        var problem = Assert.Single(r.Output.Split('\n'), l => l.StartsWith("problem:"));
        Assert.Contains(Path.Combine(dir.Path, "tokenizer") + Path.DirectorySeparatorChar, problem);
        Assert.Contains(expected, problem);
    }

    [Fact]
    public void PipelineClassMustMatchTheTransformer()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        GoldenRepository.Copy(Fixtures.File("configs", "flux2-klein-4b", "model_index.json"), Path.Combine(dir.Path, "model_index.json"));
        var transformer = Path.Combine(dir.Path, "transformer");
        GoldenRepository.Copy(Fixtures.File("configs", "flux2-dev", "transformer", "config.json"), Path.Combine(transformer, "config.json"));
        File.Delete(Path.Combine(transformer, "diffusion_pytorch_model.safetensors"));
        SparseSafeTensors.Write(Path.Combine(transformer, "diffusion_pytorch_model.safetensors"),
            Flux2WeightMap.ExpectedTensors(Flux2Config.Dev(), TensorNaming.Diffusers).Select(e => (e.Name, DType.BFloat16, e.Shape)));

        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("variant:                 dev", r.Output);
        Assert.Contains("model_index.json names Flux2KleinPipeline, but the transformer is FLUX.2 dev", r.Output);
    }

    /// <summary>A klein 9B-KV repository (its model_index names Flux2KleinKVPipeline) on a klein-9B transformer is whole;
    /// on a klein-4B one, the pair is a problem.</summary>
    [Theory]
    [InlineData("flux2-klein-9b", true)]
    [InlineData("flux2-klein-4b", false)]
    public void KleinKvRunsTheNineBillionTransformer(string configs, bool fits)
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var index = Path.Combine(dir.Path, "model_index.json");
        GoldenRepository.Copy(Fixtures.File("configs", configs, "model_index.json"), index);
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"Flux2KleinPipeline\"", "\"Flux2KleinKVPipeline\""));
        var transformer = Path.Combine(dir.Path, "transformer");
        GoldenRepository.Copy(Fixtures.File("configs", configs, "transformer", "config.json"), Path.Combine(transformer, "config.json"));
        File.Delete(Path.Combine(transformer, "diffusion_pytorch_model.safetensors"));
        var config = configs == "flux2-klein-9b" ? Flux2Config.Klein9B() : Flux2Config.Klein4B();
        SparseSafeTensors.Write(Path.Combine(transformer, "diffusion_pytorch_model.safetensors"),
            Flux2WeightMap.ExpectedTensors(config, TensorNaming.Diffusers).Select(e => (e.Name, DType.BFloat16, e.Shape)));

        var r = CliTestHost.Run("info", dir.Path);
        Assert.Contains("architecture:            Flux2KleinKVPipeline", r.Output);
        if (fits) Assert.DoesNotContain("Flux2KleinKVPipeline, but", r.Output);
        else Assert.Contains("model_index.json names Flux2KleinKVPipeline, but the transformer is FLUX.2 klein-4B", r.Output);
    }

    [Fact]
    public void UnregisteredPipelineClassIsAProblem()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var index = Path.Combine(dir.Path, "model_index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"Flux2Pipeline\"", "\"FluxPipeline\""));
        var r = CliTestHost.Run("info", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("_class_name 'FluxPipeline' is not a FLUX.2 pipeline", r.Output);
    }

    [Fact]
    public void MissingPathIsOneLine()
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run("info", dir.File("nowhere"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no such file or directory", Assert.Single(r.ErrorLines));
    }

    [Theory]
    [InlineData()]
    [InlineData("--yaml", "x")]
    [InlineData("a", "b")]
    [InlineData("--json=yes", "x")]
    public void CommandLineMistakesExitTwo(params string[] args)
    {
        var r = CliTestHost.Run(["info", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("flux2 info: error: ", Assert.Single(r.ErrorLines));
    }

    [Fact]
    public void HelpListsAndDescribesInfo()
    {
        Assert.Contains("info", CliTestHost.Run("--help").Output);
        var r = CliTestHost.Run("info", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage: flux2 info PATH [--json]", r.Output);
    }
}
