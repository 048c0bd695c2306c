using Flux2.Core;

namespace Flux2.Hub;

/// <summary>A model could not be found in the Hugging Face cache or fetched from the Hub. The message names the repository,
/// revision, file or HTTP status, and what to do (set HF_TOKEN, drop HF_HUB_OFFLINE, run again to resume, ...).</summary>
public sealed class HubException : Flux2Exception
{
    public HubException(string message, Exception? inner = null) : base(message, inner) { }
}
