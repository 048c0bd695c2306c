namespace Flux2.Core.Checkpoints;

/// <summary>A checkpoint path, folder layout or model_index.json is not what a FLUX.2 checkpoint looks like.
/// The message names the file or folder and what was expected.</summary>
public sealed class CheckpointException : Flux2Exception
{
    public string Path { get; }

    public CheckpointException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner) => Path = path;
}
