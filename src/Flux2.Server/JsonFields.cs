using System.Text.Json;

namespace Flux2.Server;

/// <summary>Reads the optional scalar fields of a JSON request object; a value of the wrong type or out of range is a 400
/// naming the field (<c>param</c>, its path in the body). Absent and <c>null</c> fields read as null.</summary>
public static class JsonFields
{
    public static string? OptionalString(JsonElement o, string name, string param)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.String ? Text(e, param) : throw RequestException.BadField(param, $"expected a string, got {e.GetRawText()}");
    }

    /// <summary>A string, or an array of strings (<c>param[i]</c> in errors) of at most <paramref name="maxCount"/>.</summary>
    public static IReadOnlyList<string>? OptionalStrings(JsonElement o, string name, string param, int maxCount)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.String) return [Text(e, param)];
        if (e.ValueKind != JsonValueKind.Array) throw RequestException.BadField(param, $"expected a string or an array of strings, got {e.GetRawText()}");
        int count = e.GetArrayLength();
        if (count > maxCount) throw RequestException.BadField(param, $"at most {maxCount} items, got {count}");
        var items = new List<string>(count);
        foreach (var item in e.EnumerateArray())
        {
            var itemParam = $"{param}[{items.Count}]";
            items.Add(item.ValueKind == JsonValueKind.String ? Text(item, itemParam)
                : throw RequestException.BadField(itemParam, $"expected a string, got {item.GetRawText()}"));
        }
        return items;
    }

    public static int? OptionalInt(JsonElement o, string name, string param, int min, int max)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var v) || v < min || v > max)
            throw RequestException.BadField(param, $"expected an integer in [{min}, {max}], got {e.GetRawText()}");
        return v;
    }

    public static ulong? OptionalUInt64(JsonElement o, string name, string param)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetUInt64(out var v) ? v
            : throw RequestException.BadField(param, $"expected an integer in [0, {ulong.MaxValue}], got {e.GetRawText()}");
    }

    /// <summary>A finite number ≥ 0.</summary>
    public static double? OptionalNumber(JsonElement o, string name, string param)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var v) || !double.IsFinite(v) || v < 0)
            throw RequestException.BadField(param, $"expected a finite number ≥ 0, got {e.GetRawText()}");
        return v;
    }

    public static bool? OptionalBool(JsonElement o, string name, string param)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw RequestException.BadField(param, $"expected true or false, got {e.GetRawText()}"),
        };
    }

    /// <summary>Refuses an object anywhere in <paramref name="e"/> that names a field twice (JSON parsers disagree on which
    /// one counts, and the form path refuses a repeat too), naming the field by its path.</summary>
    /// <param name="path">where <paramref name="e"/> is in the body: "" for the body itself</param>
    public static void RefuseRepeatedNames(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in e.EnumerateArray()) RefuseRepeatedNames(item, $"{path}[{i++}]");
        }
        if (e.ValueKind != JsonValueKind.Object) return;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in e.EnumerateObject())
        {
            var name = Text(() => property.Name, path.Length > 0 ? path : "the request body");
            var param = path.Length > 0 ? $"{path}.{name}" : name;
            if (!names.Add(name)) throw RequestException.BadField(param, "given twice");
            RefuseRepeatedNames(property.Value, param);
        }
    }

    /// <summary>A JSON string as text; invalid UTF-8 or a lone surrogate escape (which <see cref="JsonElement.GetString"/> cannot
    /// turn into a string) is the client's mistake, not the server's.</summary>
    public static string Text(JsonElement e, string param) => Text(() => e.GetString()!, param);

    /// <summary>As <see cref="Text(JsonElement, string)"/> for any read of JSON text, such as a property name.</summary>
    public static string Text(Func<string> read, string param)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            throw RequestException.BadField(param, "not valid text: the JSON string holds invalid UTF-8 or a lone surrogate escape");
        }
    }
}
