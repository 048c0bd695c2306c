using Microsoft.Extensions.Hosting;

namespace Flux2.Server;

/// <summary>Replaces the host's console lifetime, which would take Ctrl-C and SIGTERM for itself: whoever starts the server
/// stops it (<c>flux2 serve</c> handles the signals, so that a second Ctrl-C can end the process at once; tests stop it directly).</summary>
internal sealed class CallerStoppedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
