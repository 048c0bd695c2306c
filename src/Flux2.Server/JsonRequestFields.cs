using System.Text.Json;

namespace Flux2.Server;

/// <summary>The fields of a JSON request object, each named by its own name in errors.</summary>
public sealed class JsonRequestFields : IRequestFields
{
    private readonly JsonElement _object;

    /// <exception cref="RequestException">the body is not a JSON object, or a field name is not valid text</exception>
    public JsonRequestFields(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new RequestException(400, null, "the request body must be a JSON object");
        _object = root;
        Names = root.EnumerateObject().Select(p => JsonFields.Text(() => p.Name, "the request body")).ToArray();
    }

    public IReadOnlyCollection<string> Names { get; }

    public string? String(string name) => JsonFields.OptionalString(_object, name, name);

    public IReadOnlyList<string>? Strings(string name, int maxCount) => JsonFields.OptionalStrings(_object, name, name, maxCount);

    public int? Int(string name, int min, int max) => JsonFields.OptionalInt(_object, name, name, min, max);

    public ulong? UInt64(string name) => JsonFields.OptionalUInt64(_object, name, name);

    public double? Number(string name) => JsonFields.OptionalNumber(_object, name, name);

    public bool? Bool(string name) => JsonFields.OptionalBool(_object, name, name);
}
