namespace Flux2.Hub;

/// <summary>A model found (and completed) in the cache: the folder snapshots/{commit} of its repository, which holds what
/// the pipeline needs and is read like any diffusers folder.</summary>
/// <param name="DownloadedFiles">how many files this resolution fetched (0 when everything was cached)</param>
public sealed record HubSnapshot(HubModelId Id, string Commit, string Folder, int DownloadedFiles);
