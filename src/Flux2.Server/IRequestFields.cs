namespace Flux2.Server;

/// <summary>The named scalar fields of a request body, a JSON object or a multipart form alike: every read is typed and
/// range-checked, and a wrong value is a 400 naming the field. Absent fields read as null.</summary>
public interface IRequestFields
{
    IReadOnlyCollection<string> Names { get; }

    string? String(string name);

    /// <summary>A string, or in a JSON body an array of at most <paramref name="maxCount"/> strings (a form field is one string).</summary>
    IReadOnlyList<string>? Strings(string name, int maxCount);

    int? Int(string name, int min, int max);

    ulong? UInt64(string name);

    /// <summary>A finite number ≥ 0.</summary>
    double? Number(string name);

    bool? Bool(string name);
}
