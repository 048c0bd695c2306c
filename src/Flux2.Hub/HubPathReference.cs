namespace Flux2.Hub;

/// <summary>
/// One file or component folder of a Hub model repository, for the components given one by one: written
/// <c>org/name/path/in/repo</c> or
/// <c>org/name@revision/path</c> (a revision without '/'), or as the Hub's pages address it,
/// <c>https://huggingface.co/org/name/blob/REVISION/path</c> (<c>/resolve/</c> in its download links, <c>/tree/</c> for a
/// folder).
/// </summary>
public sealed record HubPathReference(HubModelId Model, string Path)
{
    private const string WebPrefix = "https://huggingface.co/";

    public static bool TryParse(string text, out HubPathReference reference)
    {
        reference = null!;
        if (text.StartsWith(WebPrefix, StringComparison.Ordinal)) return TryParseWebAddress(text[WebPrefix.Length..], out reference);
        // org/name[@revision]/path: the model part ends at the second '/'.
        int first = text.IndexOf('/');
        int second = first < 0 ? -1 : text.IndexOf('/', first + 1);
        if (second < 0 || !HubModelId.TryParse(text[..second], out var model) || !IsPath(text[(second + 1)..])) return false;
        reference = new HubPathReference(model, text[(second + 1)..]);
        return true;
    }

    public override string ToString() => $"{Model}/{Path}";

    private static bool TryParseWebAddress(string address, out HubPathReference reference)
    {
        reference = null!;
        int query = address.IndexOfAny(['?', '#']);
        var parts = (query < 0 ? address : address[..query]).Split('/');
        if (parts.Length < 5 || parts[2] is not ("blob" or "resolve" or "tree")) return false;
        string revision, path;
        try
        {
            revision = Uri.UnescapeDataString(parts[3]);
            path = string.Join('/', parts[4..].Select(Uri.UnescapeDataString));
        }
        catch (UriFormatException)
        {
            return false;
        }
        if (!HubModelId.TryParse($"{parts[0]}/{parts[1]}@{revision}", out var model) || !IsPath(path)) return false;
        reference = new HubPathReference(model, path);
        return true;
    }

    /// <summary>A relative path inside the repository that stays inside it in the cache: segments neither empty, "." nor
    /// "..", no backslash or control character.</summary>
    private static bool IsPath(string path) =>
        path.Length is > 0 and <= 1024 && !path.Any(c => char.IsControl(c) || c == '\\')
        && path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..");
}
