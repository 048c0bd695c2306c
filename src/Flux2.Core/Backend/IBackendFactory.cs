namespace Flux2.Core.Backend;

/// <summary>Creates the backend that runs on a device: the composition root's one decision about hardware.</summary>
public interface IBackendFactory
{
    /// <exception cref="BackendUnavailableException">when this build or machine has no backend for <paramref name="device"/></exception>
    IBackend Create(DeviceRef device);
}
