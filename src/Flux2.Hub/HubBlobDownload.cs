using System.Net;

namespace Flux2.Hub;

/// <summary>
/// Fetches one file into the cache's blobs/ as huggingface_hub does: the bytes go to <c>blobs/{etag}.incomplete</c>, which a
/// later run resumes with a Range request; the whole file is checked against the Hub's checksum (sha256 or git sha1) and
/// only then renamed to <c>blobs/{etag}</c>. A mismatch deletes the partial file, so nothing unchecked ever enters the
/// cache. The partial file is held exclusively while it is written, so two downloads of one file cannot interleave.
/// </summary>
public static class HubBlobDownload
{
    private const int BufferBytes = 1 << 20;

    /// <param name="progress">called with the bytes present so far (resumed bytes included) as they arrive</param>
    public static async Task DownloadAsync(HubClient client, HubRepoCache cache, HubModelId id, HubFile file, Action<long>? progress,
        CancellationToken cancellation)
    {
        var incomplete = cache.IncompletePath(file.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        using var checksum = HubChecksum.For(file.Etag, file.Size, $"{file.Path} of {id.Repo}");
        bool mismatch = false;
        var stream = OpenExclusive(incomplete, file, id);
        try
        {
            long have = stream.Length;
            if (have > file.Size) stream.SetLength(have = 0);
            await HashExistingAsync(stream, have, checksum, cancellation);
            progress?.Invoke(have);
            if (have < file.Size) await TransferAsync(client, id, file, stream, have, checksum, progress, cancellation);
            mismatch = !checksum.Matches();
            if (mismatch)
                throw new HubException($"{file.Path} of {id.Repo}: the downloaded bytes have {checksum.Algorithm} {checksum.Actual()}, but the Hub " +
                    $"announced {file.Etag}; the download was discarded and nothing was added to the cache");
            stream.Flush(flushToDisk: true);
        }
        finally
        {
            await stream.DisposeAsync();
            // A wrong checksum leaves nothing behind; an interrupted transfer keeps its bytes to resume from.
            if (mismatch) File.Delete(incomplete);
        }
        File.Move(incomplete, cache.BlobPath(file.Etag), overwrite: true);
    }

    private static FileStream OpenExclusive(string path, HubFile file, HubModelId id)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true);
        }
        catch (IOException e)
        {
            throw new HubException($"{file.Path} of {id.Repo}: cannot write {path} ({e.Message}); is another download of it running?", e);
        }
    }

    /// <summary>Hashes the bytes an earlier, interrupted run left, so that the check covers the whole file.</summary>
    private static async Task HashExistingAsync(FileStream stream, long length, HubChecksum checksum, CancellationToken cancellation)
    {
        var buffer = new byte[BufferBytes];
        stream.Position = 0;
        for (long left = length; left > 0;)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellation);
            if (n == 0) throw new IOException($"{stream.Name} shrank while it was read");
            checksum.Append(buffer.AsSpan(0, n));
            left -= n;
        }
    }

    private static async Task TransferAsync(HubClient client, HubModelId id, HubFile file, FileStream stream, long have, HubChecksum checksum,
        Action<long>? progress, CancellationToken cancellation)
    {
        string what = $"{file.Path} of {id.Repo}";
        using var response = await client.GetAsync(file.DownloadUrl, have, cancellation);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            throw new HubException($"{what}: the server refused to resume at byte {have} ({(int)response.StatusCode}); delete {stream.Name} and run again");
        if (!response.IsSuccessStatusCode) throw HubErrors.ForStatus(response, client.Settings, id, file.Path);
        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            // The server sent the whole file: start over.
            stream.SetLength(have = 0);
            checksum.Reset();
        }
        else if (have > 0 && response.Content.Headers.ContentRange?.From != have)
        {
            throw new HubException($"{what}: asked for the bytes from {have} on, the server sent {response.Content.Headers.ContentRange}");
        }
        stream.Position = have;
        var url = response.RequestMessage!.RequestUri!;
        var buffer = new byte[BufferBytes];
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellation);
            int n;
            while ((n = await client.ReadAsync(body, buffer, url, cancellation)) > 0)
            {
                if (have + n > file.Size) throw new HubException($"{what}: the server sent more than the {file.Size} bytes the Hub announced");
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellation);
                checksum.Append(buffer.AsSpan(0, n));
                have += n;
                progress?.Invoke(have);
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException)
        {
            throw Interrupted(what, have, file.Size, e.Message, e);
        }
        if (have < file.Size) throw Interrupted(what, have, file.Size, "the connection closed early", null);
    }

    private static HubException Interrupted(string what, long have, long size, string reason, Exception? inner) =>
        new($"{what}: the transfer stopped after {have} of {size} bytes ({reason}); run the command again to resume", inner);
}
