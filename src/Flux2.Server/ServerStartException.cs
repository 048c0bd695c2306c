using Flux2.Core;

namespace Flux2.Server;

/// <summary>The server cannot start: options it must not run with, or it cannot bind its address (port in use, address not
/// on this machine, no permission).</summary>
public sealed class ServerStartException : Flux2Exception
{
    public ServerStartException(string message) : base(message) { }

    public ServerStartException(string message, Exception inner) : base(message, inner) { }
}
