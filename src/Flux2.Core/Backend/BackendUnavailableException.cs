namespace Flux2.Core.Backend;

/// <summary>The device asked for has no backend here (not built in, no driver, no such device index).</summary>
public sealed class BackendUnavailableException(string message) : Flux2Exception(message);
