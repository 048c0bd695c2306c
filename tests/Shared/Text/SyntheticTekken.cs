using System.Text.Json;

namespace Flux2.Tests;

/// <summary>
/// A tiny synthetic tekken.json: the 256 single bytes at ranks 0..255 (a byte b has id specials + b), a few longer tokens
/// (<see cref="LongerTokens"/>, ranks 256 on), the Mistral special tokens at their ids, and one entry ("cats") beyond
/// default_vocab_size.
/// </summary>
public static class SyntheticTekken
{
    public const string Pattern =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public static readonly byte[][] LongerTokens =
    [
        [0xE4, 0xB8], // rank 256: the first two bytes of 中, not valid UTF-8 on its own
        [0xE4, 0xB8, 0xAD], // 257: 中
        "ca"u8.ToArray(), // 258
        "cat"u8.ToArray(), // 259
        " cat"u8.ToArray(), // 260
        "You"u8.ToArray(), // 261
    ];

    /// <param name="specials">default_num_special_tokens (Mistral's files: 1000); at least 19, for [/SYSTEM_PROMPT]</param>
    public static string Json(bool withSpecialTokens = true, int specials = 1000)
    {
        var vocab = new List<object>();
        for (int b = 0; b < 256; b++) vocab.Add(new { rank = b, token_bytes = Convert.ToBase64String([(byte)b]) });
        foreach (var token in LongerTokens) vocab.Add(new { rank = vocab.Count, token_bytes = Convert.ToBase64String(token) });
        // Beyond default_vocab_size − default_num_special_tokens: must be ignored.
        vocab.Add(new { rank = vocab.Count, token_bytes = Convert.ToBase64String("cats"u8.ToArray()) });
        var named = new (int Rank, string Text)[]
        {
            (0, "<unk>"), (1, "<s>"), (2, "</s>"), (3, "[INST]"), (4, "[/INST]"), (10, "[IMG]"), (11, "<pad>"),
            (17, "[SYSTEM_PROMPT]"), (18, "[/SYSTEM_PROMPT]"),
        };
        var root = new Dictionary<string, object>
        {
            ["config"] = new { pattern = Pattern, num_vocab_tokens = vocab.Count, default_vocab_size = specials + 256 + LongerTokens.Length, default_num_special_tokens = specials, version = "v7" },
            ["vocab"] = vocab,
        };
        if (withSpecialTokens) root["special_tokens"] = named.Select(s => new { rank = s.Rank, token_str = s.Text, is_control = true }).ToArray();
        return JsonSerializer.Serialize(root);
    }
}
