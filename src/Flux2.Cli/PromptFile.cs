using System.Text;
using Flux2.Core.Files;
using Flux2.Pipelines;

namespace Flux2.Cli;

/// <summary>The prompts of <c>generate --prompt-file</c>: UTF-8 text, one prompt per line, blank lines skipped; a prompt the
/// pipeline would refuse is refused here, naming its line, before any model loads.</summary>
public static class PromptFile
{
    /// <summary>Enough for the most prompts a request takes at the longest prompt read, in UTF-8.</summary>
    public const long MaxBytes = 16 << 20;

    public static IReadOnlyList<string> Read(string path)
    {
        CliException Problem(string what) => new($"option --prompt-file: {path}: {what}");
        var bytes = RegularFile.ReadAllBytes(path, MaxBytes, Problem);
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw Problem($"is not UTF-8 text (invalid bytes at offset {e.Index})");
        }
        var lines = text.TrimStart('\uFEFF').Split('\n');
        var prompts = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            if (GenerationPlan.PromptProblem(line) is { } problem) throw Problem($"line {i + 1}: the prompt {problem}");
            prompts.Add(line);
        }
        if (prompts.Count == 0) throw Problem("holds no prompt (one prompt per line; blank lines are skipped)");
        if (prompts.Count > GenerationPlan.MaxImages)
            throw Problem($"holds {prompts.Count} prompts, more than the {GenerationPlan.MaxImages} images one run may make");
        return prompts;
    }
}
