using System.Net;

namespace Flux2.Hub;

/// <summary>What an unsuccessful answer of the Hub means for the user, in one line naming the repository, revision, file
/// and HTTP status. The Hub says which of repository, revision or file is missing in its X-Error-Code header.</summary>
public static class HubErrors
{
    /// <param name="path">the file asked for; null for the repository listing</param>
    public static HubException ForStatus(HttpResponseMessage response, HubSettings settings, HubModelId id, string? path)
    {
        int status = (int)response.StatusCode;
        var url = response.RequestMessage?.RequestUri;
        var code = response.Headers.TryGetValues("X-Error-Code", out var values) ? values.FirstOrDefault() : null;
        string http = $"HTTP {status} for {url}";
        string file = path == null ? "" : $"{path} of ";
        switch (code)
        {
            case "RepoNotFound":
                return new HubException($"repository {id.Repo} was not found on {settings.Endpoint} ({http}); " +
                    $"if it is private or gated, {TokenAdvice}");
            case "RevisionNotFound":
                return new HubException($"revision '{id.Revision}' is not a branch, tag or commit of {id.Repo} ({http})");
            case "EntryNotFound":
                return new HubException($"{file}{id.Repo} was not found at revision '{id.Revision}' ({http})");
        }
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                new HubException($"{file}{id.Repo} cannot be downloaded ({http}): the repository is gated or private and " +
                    (settings.Token == null ? "no token was sent" : $"the token from {settings.TokenSource} was refused") +
                    $"; accept its terms on {settings.Endpoint.AbsoluteUri.TrimEnd('/')}/{id.Repo}, then {TokenAdvice}"),
            HttpStatusCode.NotFound => path == null
                ? new HubException($"repository {id.Repo} or its revision '{id.Revision}' was not found on {settings.Endpoint} ({http})")
                : new HubException($"{file}{id.Repo} was not found at revision '{id.Revision}' ({http})"),
            _ => new HubException($"{file}{id.Repo}: the Hub answered {http} ({response.ReasonPhrase}); try again later"),
        };
    }

    private const string TokenAdvice = "set HF_TOKEN to a token with read access (or log in with `hf auth login`)";
}
