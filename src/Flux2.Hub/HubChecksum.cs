using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Flux2.Hub;

/// <summary>
/// The checksum the Hub gives a file as its ETag, computed over the downloaded bytes: the sha256 of the contents for files
/// stored with LFS or Xet (sent as X-Linked-Etag), the git blob sha1 (of "blob {size}\0" followed by the contents) for
/// files stored in git itself.
/// </summary>
public sealed partial class HubChecksum : IDisposable
{
    private readonly string _expected;
    private readonly long _size;
    private readonly bool _sha256;
    private IncrementalHash _hash;

    private HubChecksum(string expected, long size, bool sha256)
    {
        _expected = expected;
        _size = size;
        _sha256 = sha256;
        _hash = NewHash();
    }

    public string Algorithm => _sha256 ? "sha256" : "git sha1";

    /// <summary>The check of a file of <paramref name="size"/> bytes whose ETag (quotes removed) is <paramref name="etag"/>.</summary>
    /// <exception cref="HubException">the ETag is neither a sha256 nor a git sha1, so the file could not be checked</exception>
    public static HubChecksum For(string etag, long size, string file)
    {
        Require(etag, file);
        return new HubChecksum(etag, size, sha256: Sha256Pattern().IsMatch(etag));
    }

    /// <summary>Refuses an ETag that is no checksum this class can verify (it also names the blob: nothing else may reach a path).</summary>
    public static void Require(string etag, string file)
    {
        if (!Sha256Pattern().IsMatch(etag) && !Sha1Pattern().IsMatch(etag))
            throw new HubException($"{file}: the Hub's ETag '{etag}' is neither a sha256 nor a git sha1, so the download could not be checked");
    }

    /// <summary>Forgets what was appended (the server sent the whole file instead of the rest).</summary>
    public void Reset()
    {
        _hash.Dispose();
        _hash = NewHash();
    }

    public void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

    /// <summary>The checksum of what was appended, in lower-case hex.</summary>
    public string Actual() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public bool Matches() => Actual() == _expected;

    public void Dispose() => _hash.Dispose();

    private IncrementalHash NewHash()
    {
        if (_sha256) return IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        hash.AppendData(Encoding.ASCII.GetBytes($"blob {_size}\0"));
        return hash;
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Sha1Pattern();
}
