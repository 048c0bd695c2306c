using System.Globalization;

namespace Flux2.Server;

/// <summary>The text fields of a multipart form, read as the JSON fields of the same names would be (numbers in invariant
/// notation without white space around them, booleans as true or false), with the same errors.</summary>
public sealed class FormRequestFields(IReadOnlyDictionary<string, string> fields) : IRequestFields
{
    public IReadOnlyCollection<string> Names => fields.Keys.ToArray();

    public string? String(string name) => fields.GetValueOrDefault(name);

    public IReadOnlyList<string>? Strings(string name, int maxCount) => fields.TryGetValue(name, out var text) ? [text] : null;

    public int? Int(string name, int min, int max) => Read<int>(name, text =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v : null,
        $"an integer in [{min}, {max}]");

    public ulong? UInt64(string name) => Read(name, text =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (ulong?)null,
        $"an integer in [0, {ulong.MaxValue}]");

    public double? Number(string name) => Read<double>(name, text =>
        double.TryParse(text, NumberStyles.Float & ~NumberStyles.AllowLeadingWhite & ~NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0 ? v : null,
        "a finite number ≥ 0");

    public bool? Bool(string name) => Read(name, text =>
        text.Equals("true", StringComparison.OrdinalIgnoreCase) ? true : text.Equals("false", StringComparison.OrdinalIgnoreCase) ? false : (bool?)null,
        "true or false");

    private T? Read<T>(string name, Func<string, T?> parse, string expected) where T : struct
    {
        if (!fields.TryGetValue(name, out var text)) return null;
        return parse(text) ?? throw RequestException.BadField(name, $"expected {expected}, got \"{text}\"");
    }
}
