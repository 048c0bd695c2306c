using System.Globalization;
using System.Text.RegularExpressions;

namespace Flux2.Server;

/// <summary>A LoRA a request asks for by name (see <see cref="LoraFolder"/>) and the strength to apply it with.</summary>
public sealed partial record RequestedLora(string Name, float Scale)
{
    /// <summary>Most LoRAs one request may name.</summary>
    public const int MaxPerRequest = 8;

    /// <summary>Reads the <c>loras</c> field: items "NAME" or "NAME:SCALE", several in one item separated by commas.</summary>
    /// <param name="param">the field's path in the request, for errors</param>
    public static IReadOnlyList<RequestedLora> Parse(IReadOnlyList<string>? items, string param)
    {
        var loras = new List<RequestedLora>();
        foreach (var item in items ?? [])
            foreach (var part in item.Split(',', StringSplitOptions.TrimEntries))
            {
                if (loras.Count == MaxPerRequest) throw RequestException.BadField(param, $"at most {MaxPerRequest} LoRAs per request");
                loras.Add(ParseOne(part, param));
            }
        return loras;
    }

    private static RequestedLora ParseOne(string text, string param)
    {
        int colon = text.IndexOf(':');
        var name = colon < 0 ? text : text[..colon];
        if (!NamePattern().IsMatch(name))
            throw RequestException.BadField(param, $"'{text}' is not NAME or NAME:SCALE with a LoRA name of letters, digits, '.', '_' and '-' " +
                "(not starting with '.'; the name of a .safetensors file of the server's LoRA folder, without the extension)");
        if (colon < 0) return new RequestedLora(name, 1f);
        var scaleText = text[(colon + 1)..];
        if (!float.TryParse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale) || !float.IsFinite(scale))
            throw RequestException.BadField(param, $"LoRA '{name}': scale '{scaleText}' is not a finite number");
        return new RequestedLora(name, scale);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex NamePattern();
}
