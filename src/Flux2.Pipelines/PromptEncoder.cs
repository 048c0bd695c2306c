using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.TextEncoders;
using Flux2.Text;

namespace Flux2.Pipelines;

/// <summary>Prompt → transformer text input (spec §7): chat template, tokenize and pad to 512, run the LLM,
/// stack the selected hidden states. Owns the text encoder. With a <see cref="PromptEmbeddingCache"/>, prompts found there
/// skip the LLM and the ones it computes are kept.</summary>
/// <param name="weightsIdentity">what tells this encoder's weights apart from other files across processes
/// (<see cref="FilesIdentity"/> of its path); part of every cache key</param>
/// <param name="output">the backend the embeddings are for (the transformer's); null: the encoder's own</param>
public sealed class PromptEncoder(PromptTokenizer tokenizer, TextEncoder encoder, PromptEmbeddingCache? cache = null, string weightsIdentity = "",
    IBackend? output = null) : IDisposable
{
    private readonly string _identity = string.Join("\n", weightsIdentity, $"layers {string.Join(',', encoder.HiddenStateLayers)}",
        $"backend {encoder.Backend.Name} {encoder.Backend.Precision} {encoder.Backend.ActivationDType}");

    public PromptTokenizer Tokenizer { get; } = tokenizer;
    public TextEncoder Encoder { get; } = encoder;

    /// <summary>Features per token of the output: hidden size × stacked layers.</summary>
    public int Features => Encoder.Config.HiddenSize * Encoder.HiddenStateLayers.Count;

    /// <summary>Where the text encoder runs.</summary>
    public IBackend Backend => Encoder.Backend;

    /// <summary>Where the embeddings <see cref="Encode(IReadOnlyList{string}, Action{string}?, bool)"/> returns live.</summary>
    public IBackend OutputBackend { get; } = output ?? encoder.Backend;

    /// <param name="onNotice">receives the truncation warning of an over-long prompt</param>
    /// <param name="strict">reject an over-long prompt (PromptTooLongException) instead of truncating it</param>
    public PromptEmbedding Encode(string prompt, Action<string>? onNotice, bool strict = false) => Encode([prompt], onNotice, strict);

    /// <summary>Several prompts in one pass of the text encoder: embeddings [prompts.Count, 512, features] on
    /// <see cref="OutputBackend"/>.</summary>
    public PromptEmbedding Encode(IReadOnlyList<string> prompts, Action<string>? onNotice, bool strict = false)
    {
        if (prompts.Count == 0) throw new PipelineException("at least one prompt is needed");
        var tokens = prompts.Select(p => Tokenizer.Tokenize(p, strict: strict)).ToArray();
        for (int i = 0; i < tokens.Length; i++)
            if (tokens[i].Warning is { } warning) onNotice?.Invoke(prompts.Count > 1 ? $"prompt {i + 1}: {warning}" : warning);
        bool here = OutputBackend == Backend;
        if (cache == null && here) return Own(Run(tokens));

        int length = tokens[0].InputIds.Length, features = Features;
        var keys = tokens.Select(t => PromptEmbeddingCache.Key(_identity, t.InputIds, t.AttentionMask)).ToArray();
        var found = keys.Select(key => cache?.TryGet(key, length, features)).ToArray();
        int[] missing = Enumerable.Range(0, tokens.Length).Where(i => found[i] == null).ToArray();
        if (missing.Length > 0)
        {
            var computed = Run(missing.Select(i => tokens[i]).ToArray());
            float[] values;
            try
            {
                values = Backend.DownloadFloat32(computed);
            }
            catch
            {
                computed.Dispose();
                throw;
            }
            long each = (long)length * features;
            for (int j = 0; j < missing.Length; j++)
            {
                found[missing[j]] = values.AsSpan((int)(j * each), (int)each).ToArray();
                cache?.Add(keys[missing[j]], length, features, found[missing[j]]!);
            }
            // Every prompt new and wanted where it was computed: the encoder's tensor is the answer as it is.
            if (missing.Length == tokens.Length && here) return Own(computed);
            computed.Dispose();
        }
        // In the encoder's own type where the output backend's is the same (the backend's activation type; cached values are
        // its output widened, so a bf16 one rounds back exactly): a prompt's embedding is the same cached or not, and cached
        // and new ones stack into one batch. Crossing to another backend, they take that backend's activation type.
        return Own(OutputBackend.UploadAs(found.SelectMany(f => f!).ToArray(), OutputBackend.ActivationDType, tokens.Length, length, features));
    }

    /// <summary>The LLM's stacked hidden states for tokenized prompts, [prompts, L, features] on the backend.</summary>
    private Tensor Run(TokenizedPrompt[] tokens) =>
        Encoder.Encode(tokens.SelectMany(t => t.InputIds).ToArray(), tokens.SelectMany(t => t.AttentionMask).ToArray(), tokens.Length);

    private PromptEmbedding Own(Tensor embeddings)
    {
        try
        {
            return new PromptEmbedding(OutputBackend, embeddings);
        }
        catch
        {
            embeddings.Dispose();
            throw;
        }
    }

    /// <summary>The path's files (a folder's regular files, or the file and the config.json beside it) by full name, size and
    /// modification time: changes when the weights are replaced.</summary>
    public static string FilesIdentity(string path)
    {
        var full = Path.GetFullPath(path);
        var files = Directory.Exists(full)
            ? Directory.GetFiles(full).Order(StringComparer.Ordinal)
            : new[] { full, Path.Combine(Path.GetDirectoryName(full) ?? "", "config.json") }.Where(File.Exists);
        return string.Join("\n", files.Select(f => new FileInfo(f)).Select(f => $"{f.FullName} {f.Length} {f.LastWriteTimeUtc.Ticks}"));
    }

    public void Dispose() => Encoder.Dispose();
}
