namespace Flux2.Hub;

/// <summary>One file of a repository commit as the Hub describes it before it is downloaded.</summary>
/// <param name="Path">the repository path, e.g. "transformer/config.json"</param>
/// <param name="Etag">its checksum (quotes removed): the sha256 of the contents for LFS/Xet files, the git blob sha1 otherwise;
/// also its name under blobs/ in the cache</param>
/// <param name="Size">its size in bytes</param>
/// <param name="DownloadUrl">where its bytes are (the Hub itself, or the storage it redirects LFS files to)</param>
public sealed record HubFile(string Path, string Etag, long Size, Uri DownloadUrl);
