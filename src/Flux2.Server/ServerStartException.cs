using Flux2.Core;

namespace Flux2.Server;

/// <summary>The server cannot bind its address (port in use, address not on this machine, no permission).</summary>
public sealed class ServerStartException(string message, Exception inner) : Flux2Exception(message, inner);
