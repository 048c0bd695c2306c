using Flux2.Hub;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;

namespace Flux2.Cli;

/// <summary>
/// The model of generate and serve, from -m/--model: a diffusers folder, or a Hugging Face model id (org/name[@revision])
/// found in the Hugging Face cache and completed from the Hub. A path that exists is always taken as a path.
/// </summary>
public sealed class ModelArguments
{
    /// <summary>What generate runs without -m.</summary>
    public const string DefaultModel = "black-forest-labs/FLUX.2-klein-4B";

    private readonly string _model;

    private ModelArguments(string model) => _model = model;

    /// <param name="defaultModel">the model without -m; null makes -m required</param>
    public static ModelArguments Parse(CommandArgs o, string? defaultModel) =>
        new(o.Optional("model") ?? defaultModel ?? throw new CliException("missing required option --model"));

    /// <summary>The model part of the pipeline's config: a folder as given; a model id as its name (for reports and image
    /// metadata) with the components of its snapshot in the cache (downloaded first when missing).</summary>
    public PipelineConfig Resolve(HubModels hub, string command, TextWriter error, CancellationToken stop)
    {
        if (HubModels.IdOf(_model) is not { } id) return new PipelineConfig { ModelPath = _model };
        var snapshot = hub.Resolve(id, command, error, stop);
        return new PipelineConfig { ModelPath = id.ToString(), Components = DiffusersFolder.Components(snapshot.Folder) };
    }
}
