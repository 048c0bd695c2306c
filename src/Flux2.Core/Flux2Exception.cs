namespace Flux2.Core;

/// <summary>Base type of every error a user can cause through a checkpoint, configuration or request
/// (as opposed to programming errors). The message names the file, tensor or option and what was expected.</summary>
public class Flux2Exception : Exception
{
    public Flux2Exception(string message) : base(message) { }
    public Flux2Exception(string message, Exception? inner) : base(message, inner) { }
}
