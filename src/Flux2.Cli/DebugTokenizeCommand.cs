using System.Text.Json;
using Flux2.Text;

namespace Flux2.Cli;

/// <summary><c>flux2 debug tokenize --tokenizer DIR --prompt TEXT [--template klein|dev|none]</c>: prints the token
/// ids and attention mask the text encoder would receive, as one JSON object.</summary>
public sealed class DebugTokenizeCommand : ICommand
{
    public string Name => "debug tokenize";
    public string Summary => "print a prompt's token ids and attention mask as JSON";

    public string Help =>
        "Usage: flux2 debug tokenize --tokenizer DIR --prompt TEXT [--template klein|dev|none] [--max-length N] [--strict]\n\n" +
        "Loads tokenizer.json (or Mistral's tekken.json) from DIR, a model's tokenizer/ folder or the model folder, or the\n" +
        "tokenizer a GGUF text encoder carries when DIR is a .gguf file.\n" +
        "With a template the prompt is wrapped in the klein (Qwen3) or dev (Mistral) chat template, cut to\n" +
        "--max-length tokens (default 512; a warning goes to stderr, or --strict makes it an error) and padded\n" +
        "exactly as the pipeline does. --template none (the default) prints the prompt's own ids, unpadded.\n" +
        "Output: {\"input_ids\": [...], \"attention_mask\": [...]}\n";

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string> { "strict" });
        string directory = options.Required("tokenizer");
        string prompt = options.Required("prompt");
        var template = options.Optional("template") switch
        {
            null or "none" => PromptTemplate.None,
            "klein" => PromptTemplate.Klein,
            "dev" => PromptTemplate.Dev,
            var other => throw new CliException($"option --template: '{other}' is not one of klein, dev, none"),
        };
        int? maxLength = options.OptionalInt("max-length", min: 1, max: 1 << 20);
        bool strict = options.Flag("strict");
        options.EnsureAllUsed(0);
        if (template == PromptTemplate.None && (maxLength != null || strict))
            throw new CliException("--max-length and --strict apply only with --template klein or dev");

        var tokenizer = PromptTokenizer.Load(directory, template);
        var encoded = tokenizer.Tokenize(prompt, maxLength ?? PromptTokenizer.DefaultMaxLength, strict);
        if (encoded.Warning != null) error.WriteLine($"flux2 {Name}: warning: {encoded.Warning}");

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            WriteArray(json, "input_ids", encoded.InputIds);
            WriteArray(json, "attention_mask", encoded.AttentionMask);
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        return CliApp.ExitOk;
    }

    private static void WriteArray(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (long v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
