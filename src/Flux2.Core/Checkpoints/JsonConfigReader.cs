using System.Text.Json;

namespace Flux2.Core.Checkpoints;

/// <summary>
/// Typed values of the JSON configs that come with checkpoints (config.json, model_index.json). A value of the wrong
/// kind becomes the caller's own exception: <c>error</c> receives the problem ("'key' must be an integer, found "8"")
/// and adds the file it came from, so every config keeps its error type.
/// </summary>
public sealed class JsonConfigReader(Func<string, Exception> error)
{
    /// <summary>An integer; a number without a fraction (<c>128.0</c>, as Python's json may write it) counts as one.</summary>
    public int Int(string key, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        throw WrongKind(key, "an integer", v);
    }

    public double Number(string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : throw WrongKind(key, "a finite number", v);

    public bool Bool(string key, JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongKind(key, "true or false", v),
    };

    public string String(string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.String ? v.GetString()! : throw WrongKind(key, "a string", v);

    public int[] IntList(string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => Int(key, e)).ToArray() : throw WrongKind(key, "an array of integers", v);

    /// <summary><paramref name="key"/> of <paramref name="obj"/> as an integer; null where it is absent or null.</summary>
    public int? OptionalInt(JsonElement obj, string key) => Present(obj, key, out var v) ? Int(key, v) : null;

    public double? OptionalNumber(JsonElement obj, string key) => Present(obj, key, out var v) ? Number(key, v) : null;

    public bool? OptionalBool(JsonElement obj, string key) => Present(obj, key, out var v) ? Bool(key, v) : null;

    public string? OptionalString(JsonElement obj, string key) => Present(obj, key, out var v) ? String(key, v) : null;

    private static bool Present(JsonElement obj, string key, out JsonElement v) =>
        obj.TryGetProperty(key, out v) && v.ValueKind != JsonValueKind.Null;

    private Exception WrongKind(string key, string expected, JsonElement v) => error($"'{key}' must be {expected}, found {v.GetRawText()}");
}
