using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flux2.Hub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flux2.Tests;

/// <summary>
/// A Hugging Face Hub served in-process on loopback, answering as the Hub does: the listing API
/// (<c>/api/models/{repo}/revision/{revision}</c>); resolve URLs, where a git-stored file is a relative redirect to the
/// Hub's resolve cache that answers with its git sha1 as ETag, and an LFS file (.safetensors) is a redirect carrying
/// X-Linked-Etag (its sha256) and X-Linked-Size to a second port standing in for the storage CDN, which serves byte
/// ranges; X-Error-Code on 404s; gated repositories that want the token. Faults can be injected (a transfer cut after
/// some bytes, a corrupted byte), and every request is recorded.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string GoodToken = "hf_fake_token_with_access";

    /// <param name="Port">the port it came in on: <see cref="Endpoint"/>'s or the storage's</param>
    public sealed record Request(string Method, string Path, int Port, string? Range, string? Authorization);

    private sealed record Repo(Dictionary<string, Dictionary<string, byte[]>> Commits, Dictionary<string, string> Branches, bool Gated);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string Path)> _blobs = new(StringComparer.Ordinal);

    public Uri Endpoint { get; private set; } = null!;
    public int StoragePort { get; private set; }
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Repository path → bytes after which the next storage transfer of that file breaks off (once).</summary>
    public ConcurrentDictionary<string, long> CutAfter { get; } = new(StringComparer.Ordinal);

    /// <summary>Repository path → bytes after which the next storage transfer of that file sends nothing more, without closing (once).</summary>
    public ConcurrentDictionary<string, long> StallAfter { get; } = new(StringComparer.Ordinal);

    /// <summary>Repository paths whose storage transfers have one byte changed (always).</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new(StringComparer.Ordinal);

    private FakeHub(WebApplication app) => _app = app;

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var hub = new FakeHub(app);
        app.Run(hub.HandleAsync);
        await app.StartAsync();
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToArray();
        hub.Endpoint = new Uri($"http://127.0.0.1:{ports[0]}");
        hub.StoragePort = ports[1];
        return hub;
    }

    /// <summary>Adds a commit of <paramref name="files"/> (repository path → bytes) and points <paramref name="branch"/> at it.</summary>
    /// <returns>the commit hash</returns>
    public string AddCommit(string repo, IReadOnlyDictionary<string, byte[]> files, string branch = "main", bool gated = false)
    {
        var commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(
            repo + string.Join("\n", files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + " " + Sha256(f.Value))))));
        var r = _repos.GetOrAdd(repo, _ => new Repo([], [], gated));
        lock (r)
        {
            r.Commits[commit] = files.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            r.Branches[branch] = commit;
        }
        foreach (var (path, bytes) in files.Where(f => IsLfs(f.Key))) _blobs[Sha256(bytes)] = (bytes, path);
        return commit;
    }

    /// <summary>Every file under <paramref name="folder"/>, by repository path.</summary>
    public static Dictionary<string, byte[]> FilesOf(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes, StringComparer.Ordinal);

    /// <summary>Settings that point at this hub, with the cache in <paramref name="cache"/> and a short idle timeout.</summary>
    public HubSettings Settings(string cache, string? token = null, bool offline = false) => new()
    {
        Endpoint = Endpoint,
        CacheDirectory = cache,
        Token = token,
        TokenSource = token == null ? null : "HF_TOKEN",
        Offline = offline,
        IdleTimeout = TimeSpan.FromSeconds(10),
    };

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string GitSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = Uri.UnescapeDataString(request.Path.Value ?? "");
        int port = context.Connection.LocalPort;
        Requests.Enqueue(new Request(request.Method, path, port, request.Headers.Range.FirstOrDefault(), request.Headers.Authorization.FirstOrDefault()));
        var response = context.Response;
        if (port == StoragePort)
        {
            if (path.StartsWith("/storage/", StringComparison.Ordinal) && _blobs.TryGetValue(path["/storage/".Length..], out var blob))
                await ServeBytesAsync(context, blob.Bytes, blob.Path);
            else
                response.StatusCode = 404;
            return;
        }

        const string api = "/api/models/", cache = "/api/resolve-cache/models/";
        if (path.StartsWith(api, StringComparison.Ordinal))
        {
            // /api/models/{org}/{name}/revision/{revision}
            var parts = path[api.Length..].Split('/', 4);
            if (parts.Length < 4 || parts[2] != "revision") { response.StatusCode = 400; return; }
            if (!Find(context, parts[0] + "/" + parts[1], parts[3], out var repo, out var commit)) return;
            response.ContentType = "application/json";
            await response.WriteAsync(JsonSerializer.Serialize(new
            {
                id = parts[0] + "/" + parts[1],
                sha = commit,
                siblings = repo!.Commits[commit!].Keys.Select(f => new { rfilename = f }),
            }));
            return;
        }
        if (path.StartsWith(cache, StringComparison.Ordinal))
        {
            // /api/resolve-cache/models/{org}/{name}/{commit}/{path}
            var parts = path[cache.Length..].Split('/', 4);
            if (!Find(context, parts[0] + "/" + parts[1], parts[2], out var repo, out var commit)) return;
            if (!repo!.Commits[commit!].TryGetValue(parts[3], out var bytes)) { NotFound(response, "EntryNotFound"); return; }
            response.Headers.ETag = $"\"{GitSha1(bytes)}\"";
            response.Headers["X-Repo-Commit"] = commit;
            await ServeBytesAsync(context, bytes, parts[3]);
            return;
        }
        {
            // /{org}/{name}/resolve/{revision}/{path}
            var parts = path.TrimStart('/').Split('/', 5);
            if (parts.Length < 5 || parts[2] != "resolve") { response.StatusCode = 404; return; }
            if (!Find(context, parts[0] + "/" + parts[1], parts[3], out var repo, out var commit)) return;
            if (repo!.Gated && request.Headers.Authorization.FirstOrDefault() != $"Bearer {GoodToken}")
            {
                response.StatusCode = request.Headers.Authorization.Count == 0 ? 401 : 403;
                response.Headers["X-Error-Code"] = "GatedRepo";
                return;
            }
            if (!repo.Commits[commit!].TryGetValue(parts[4], out var bytes)) { NotFound(response, "EntryNotFound"); return; }
            response.Headers["X-Repo-Commit"] = commit;
            if (IsLfs(parts[4]))
            {
                response.StatusCode = 302;
                response.Headers["X-Linked-Etag"] = $"\"{Sha256(bytes)}\"";
                response.Headers["X-Linked-Size"] = bytes.Length.ToString();
                response.Headers.ETag = $"\"{GitSha1(Encoding.ASCII.GetBytes("lfs pointer " + Sha256(bytes)))}\"";
                response.Headers.Location = $"http://127.0.0.1:{StoragePort}/storage/{Sha256(bytes)}";
            }
            else
            {
                response.StatusCode = 307;
                response.Headers.Location = $"{cache}{parts[0]}/{parts[1]}/{commit}/{parts[4]}";
            }
        }
    }

    /// <summary>The repository and the commit a revision names; answers 404 with the Hub's error code when there is none.</summary>
    private bool Find(HttpContext context, string name, string revision, out Repo? repo, out string? commit)
    {
        commit = null;
        if (!_repos.TryGetValue(name, out repo))
        {
            NotFound(context.Response, "RepoNotFound");
            return false;
        }
        lock (repo)
        {
            commit = repo.Branches.TryGetValue(revision, out var c) ? c : repo.Commits.ContainsKey(revision) ? revision : null;
        }
        if (commit == null) NotFound(context.Response, "RevisionNotFound");
        return commit != null;
    }

    private static void NotFound(HttpResponse response, string code)
    {
        response.StatusCode = 404;
        response.Headers["X-Error-Code"] = code;
    }

    /// <summary>The bytes, or those from a "bytes=N-" Range on (206), with the injected faults.</summary>
    private async Task ServeBytesAsync(HttpContext context, byte[] bytes, string repoPath)
    {
        var response = context.Response;
        long from = 0;
        if (context.Request.Headers.Range.FirstOrDefault() is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            from = long.Parse(range["bytes=".Length..^1]);
            if (from >= bytes.Length)
            {
                response.StatusCode = 416;
                return;
            }
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        response.ContentLength = bytes.Length - from;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        var body = bytes.AsMemory((int)from);
        if (Corrupt.ContainsKey(repoPath))
        {
            var changed = body.ToArray();
            changed[^1] ^= 0xFF;
            body = changed;
        }
        if (CutAfter.TryRemove(repoPath, out var cut))
        {
            await response.Body.WriteAsync(body[..(int)(cut - from)]);
            await response.Body.FlushAsync();
            await Task.Delay(100); // let the bytes reach the client before the reset, which may drop what is still in flight
            context.Abort();
            return;
        }
        if (StallAfter.TryRemove(repoPath, out var stall))
        {
            await response.Body.WriteAsync(body[..(int)(stall - from)]);
            await response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        await response.Body.WriteAsync(body);
    }
}
