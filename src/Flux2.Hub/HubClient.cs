using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Flux2.Hub;

/// <summary>
/// The Hub's HTTP interface as huggingface_hub uses it: the repository listing
/// (<c>{endpoint}/api/models/{repo}/revision/{revision}</c>), a HEAD of <c>{endpoint}/{repo}/resolve/{commit}/{path}</c> for a
/// file's checksum, size and location, and GETs of its bytes from an offset. Redirects on the Hub itself (renamed
/// repositories, its resolve cache) are followed; a HEAD stops at a redirect to other storage, whose headers describe the
/// file. The token goes only to the Hub, never to the storage it redirects to. Connection failures and silences longer
/// than <see cref="HubSettings.IdleTimeout"/> surface as <see cref="HttpRequestException"/> and <see cref="TimeoutException"/>.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    /// <summary>A listing of the largest repositories is well under a megabyte.</summary>
    private const int MaxListingBytes = 16 << 20;

    private readonly HubSettings _settings;
    private readonly HttpClient _http;

    public HubClient(HubSettings settings)
    {
        _settings = settings;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = settings.IdleTimeout,
            UseCookies = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // transfers take hours; silences are bounded per read instead
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("flux2");
    }

    public HubSettings Settings => _settings;

    /// <summary>The commit <paramref name="id"/>'s revision points at, and the files of the repository there.</summary>
    public async Task<HubRevision> GetRevisionAsync(HubModelId id, CancellationToken cancellation)
    {
        var url = new Uri($"{EndpointText}/api/models/{id.Repo}/revision/{Uri.EscapeDataString(id.Revision)}");
        using var response = await SendAsync(HttpMethod.Get, url, null, followToOtherHosts: false, cancellation);
        if (!response.IsSuccessStatusCode) throw HubErrors.ForStatus(response, _settings, id, null);
        if (response.Content.Headers.ContentLength > MaxListingBytes)
            throw new HubException($"{url}: the listing is {response.Content.Headers.ContentLength} bytes, more than the {MaxListingBytes}-byte limit");
        var body = new MemoryStream();
        await using (var stream = await response.Content.ReadAsStreamAsync(cancellation))
            await CopyCappedAsync(stream, body, url, cancellation);
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String
                || !HubModelId.IsCommit(sha.GetString()!))
                throw new HubException($"{url}: the listing has no commit hash ('sha')");
            if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
                throw new HubException($"{url}: the listing has no file list ('siblings')");
            var files = new List<string>();
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (sibling.ValueKind != JsonValueKind.Object || !sibling.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
                    throw new HubException($"{url}: a file of the listing has no name ('rfilename')");
                var path = name.GetString()!;
                if (!IsSafePath(path)) throw new HubException($"{url}: the listing names the file '{path}', which is not a plain relative path");
                files.Add(path);
            }
            return new HubRevision(sha.GetString()!, files);
        }
        catch (JsonException e)
        {
            throw new HubException($"{url}: the listing is not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>The checksum, size and location of <paramref name="path"/> at <paramref name="commit"/>.</summary>
    public async Task<HubFile> GetFileAsync(HubModelId id, string commit, string path, CancellationToken cancellation)
    {
        var url = new Uri($"{EndpointText}/{id.Repo}/resolve/{commit}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");
        using var response = await SendAsync(HttpMethod.Head, url, null, followToOtherHosts: false, cancellation);
        bool redirected = (int)response.StatusCode is >= 300 and < 400;
        if (!response.IsSuccessStatusCode && !redirected) throw HubErrors.ForStatus(response, _settings, id, path);
        var answered = response.RequestMessage!.RequestUri!;
        var etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag")
            ?? throw new HubException($"{path} of {id.Repo}: the Hub sent no ETag for it (HEAD {answered}), so a download could not be checked");
        var sizeText = Header(response, "X-Linked-Size") ?? (redirected ? null : response.Content.Headers.ContentLength?.ToString());
        if (!long.TryParse(sizeText, out long size) || size < 0)
            throw new HubException($"{path} of {id.Repo}: the Hub sent no size for it (HEAD {answered})");
        var location = redirected ? new Uri(answered, response.Headers.Location!) : answered;
        etag = NormalizeEtag(etag);
        HubChecksum.Require(etag, $"{path} of {id.Repo}");
        return new HubFile(path, etag, size, location);
    }

    /// <summary>GET of <paramref name="url"/> from byte <paramref name="offset"/> on (a Range request when it is not 0),
    /// redirects followed; the caller checks the status and disposes the response.</summary>
    public Task<HttpResponseMessage> GetAsync(Uri url, long offset, CancellationToken cancellation) =>
        SendAsync(HttpMethod.Get, url, request =>
        {
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
        }, followToOtherHosts: true, cancellation);

    public void Dispose() => _http.Dispose();

    private string EndpointText => _settings.Endpoint.AbsoluteUri.TrimEnd('/');

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, Action<HttpRequestMessage>? configure, bool followToOtherHosts,
        CancellationToken cancellation)
    {
        for (int hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (_settings.Token != null && SameOrigin(url, _settings.Endpoint))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _settings.Token);
            configure?.Invoke(request);
            HttpResponseMessage response;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                idle.CancelAfter(_settings.IdleTimeout);
                try
                {
                    response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    throw new TimeoutException($"{url.GetLeftPart(UriPartial.Authority)} did not answer within {_settings.IdleTimeout.TotalSeconds:0} s");
                }
            }
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is not { } location) return response;
            var next = new Uri(url, location);
            if (!followToOtherHosts && !SameOrigin(next, url)) return response;
            response.Dispose();
            if (hop == MaxRedirects) throw new HubException($"{url}: more than {MaxRedirects} redirects");
            url = next;
        }
    }

    private async Task CopyCappedAsync(Stream from, MemoryStream to, Uri url, CancellationToken cancellation)
    {
        var buffer = new byte[81920];
        int n;
        while ((n = await ReadAsync(from, buffer, url, cancellation)) > 0)
        {
            if (to.Length + n > MaxListingBytes) throw new HubException($"{url}: the listing is more than the {MaxListingBytes}-byte limit");
            to.Write(buffer, 0, n);
        }
    }

    /// <summary>One read of a response body, given up when nothing arrives for <see cref="HubSettings.IdleTimeout"/>.</summary>
    public async Task<int> ReadAsync(Stream body, byte[] buffer, Uri url, CancellationToken cancellation)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(_settings.IdleTimeout);
        try
        {
            return await body.ReadAsync(buffer, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new TimeoutException($"{url.GetLeftPart(UriPartial.Authority)} sent nothing for {_settings.IdleTimeout.TotalSeconds:0} s");
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    /// <summary>ETag: "abc" or W/"abc" → abc.</summary>
    private static string NormalizeEtag(string etag) =>
        (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    /// <summary>A path that stays inside the snapshot folder: relative, '/'-separated, no empty, "." or ".." segment.</summary>
    private static bool IsSafePath(string path) =>
        path.Length is > 0 and <= 1024 && !path.Contains('\\') && !path.Any(char.IsControl)
        && path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..");
}
