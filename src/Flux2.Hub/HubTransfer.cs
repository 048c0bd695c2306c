namespace Flux2.Hub;

/// <summary>Progress of one file's download: <paramref name="Done"/> of <paramref name="Total"/> bytes are in its partial file
/// (bytes of an earlier, interrupted run included).</summary>
public sealed record HubTransfer(string Path, long Done, long Total);
