namespace Flux2.Hub;

/// <summary>A repository at one commit, as the Hub's listing API returns it: the commit a branch, tag or commit resolved to and
/// the paths of every file in it.</summary>
public sealed record HubRevision(string Commit, IReadOnlyList<string> Files);
