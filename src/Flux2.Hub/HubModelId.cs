using System.Text.RegularExpressions;

namespace Flux2.Hub;

/// <summary>
/// A model repository on the Hugging Face Hub and the revision wanted, written <c>org/name</c> or <c>org/name@revision</c>
/// (a branch, tag or commit hash; <c>main</c> when omitted), as the Python tools accept it.
/// </summary>
public sealed partial record HubModelId(string Repo, string Revision)
{
    public const string DefaultRevision = "main";

    /// <summary>Whether <see cref="Revision"/> is a full commit hash, which needs no refs/ entry to be found in the cache.</summary>
    public bool RevisionIsCommit => IsCommit(Revision);

    public static bool IsCommit(string text) => CommitPattern().IsMatch(text);

    /// <summary>Reads "org/name[@revision]"; false for anything else (a file path, a bare name, a malformed revision).</summary>
    public static bool TryParse(string text, out HubModelId id)
    {
        id = null!;
        int at = text.IndexOf('@');
        var repo = at < 0 ? text : text[..at];
        var revision = at < 0 ? DefaultRevision : text[(at + 1)..];
        var parts = repo.Split('/');
        if (repo.Length > 96 || parts.Length != 2 || !parts.All(IsName) || !IsRevision(revision)) return false;
        id = new HubModelId(repo, revision);
        return true;
    }

    public override string ToString() => Revision == DefaultRevision ? Repo : $"{Repo}@{Revision}";

    /// <summary>The Hub's rule for user, organisation and repository names: letters, digits, '-', '_', '.', not starting or
    /// ending with '-' or '.', without "--" or "..".</summary>
    private static bool IsName(string part) =>
        NamePattern().IsMatch(part) && !part.Contains("--", StringComparison.Ordinal) && !part.Contains("..", StringComparison.Ordinal)
        && !part.EndsWith('-') && !part.EndsWith('.');

    /// <summary>A branch, tag or commit; it becomes a path under the cache's refs/, so no empty, "." or ".." segment.</summary>
    private static bool IsRevision(string revision) =>
        revision.Length is > 0 and <= 256 && !revision.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '\\' or ':' or '@')
        && revision.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..");

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
