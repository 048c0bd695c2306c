using System.Text.Json;

namespace Flux2.Core.Checkpoints;

/// <summary>One component line of model_index.json: <c>"vae": ["diffusers", "AutoencoderKLFlux2"]</c>.
/// Library and class are null for an optional component the pipeline was saved without (<c>[null, null]</c>).</summary>
public sealed record ModelIndexComponent(string Name, string? Library, string? ClassName)
{
    public bool IsPresent => ClassName != null;
}

/// <summary>A diffusers model_index.json (spec §4.3): the pipeline class, its attributes and its components.</summary>
public sealed record ModelIndex(
    string Path,
    string ClassName,
    string? DiffusersVersion,
    bool? IsDistilled,
    IReadOnlyList<ModelIndexComponent> Components)
{
    public const string FileName = "model_index.json";

    /// <summary>The components a FLUX.2 pipeline loads (spec §4.3).</summary>
    public static IReadOnlyList<string> Flux2Components { get; } = ["transformer", "vae", "text_encoder", "tokenizer", "scheduler"];

    public ModelIndexComponent? Component(string name) => Components.FirstOrDefault(c => c.Name == name);

    public static ModelIndex Read(string path)
    {
        using var doc = JsonText.ReadFile(path, (problem, cause) => new CheckpointException(path, problem, cause));
        return Parse(path, doc.RootElement);
    }

    public static ModelIndex Parse(string path, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(path, $"model_index.json must be a JSON object, found {root.ValueKind}");
        var reader = new JsonConfigReader(problem => new CheckpointException(path, problem));
        string? className = null;
        string? version = null;
        bool? distilled = null;
        var components = new List<ModelIndexComponent>();
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "_class_name":
                    className = reader.String(p.Name, p.Value);
                    break;
                case "_diffusers_version":
                    version = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                    break;
                case "is_distilled":
                    distilled = reader.Bool(p.Name, p.Value);
                    break;
                default:
                    // Components are [library, class] pairs; any other key is a pipeline attribute.
                    if (p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() == 2)
                        components.Add(new ModelIndexComponent(p.Name, NullableString(path, p.Name, p.Value[0]), NullableString(path, p.Name, p.Value[1])));
                    break;
            }
        }
        if (className == null) throw new CheckpointException(path, "model_index.json has no '_class_name'");
        return new ModelIndex(path, className, version, distilled, components);
    }

    private static string? NullableString(string path, string component, JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Null => null,
        _ => throw new CheckpointException(path, $"component '{component}' must be a [library, class] pair of strings, found {e.GetRawText()}"),
    };
}
