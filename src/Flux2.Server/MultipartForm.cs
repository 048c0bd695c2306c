using System.Text;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Flux2.Server;

/// <summary>
/// Reads the multipart/form-data body of <c>/v1/images/edits</c> as it streams in, within fixed bounds: at most
/// <see cref="MaxParts"/> parts with at most 16 headers (16 KiB) each, a text field at most <see cref="MaxFieldBytes"/>, an
/// image at most <see cref="ImageDecodeLimits.MaxFileBytes"/> and the whole body at most the server's request size. Parts
/// named <c>image</c> or <c>image[]</c> (the OpenAI SDKs send several as <c>image[]</c>) are reference images, decoded as they
/// arrive by the server's <see cref="ReferenceUploads"/> (limits checked before any pixel is, a bounded number of decodes at
/// once); every other part is a UTF-8 text field.
/// </summary>
public static class MultipartForm
{
    public const int MaxParts = 64;

    /// <summary>Room for the longest prompt: a UTF-16 code unit takes at most 3 bytes of UTF-8.</summary>
    public const int MaxFieldBytes = GenerationPlan.MaxPromptCharacters * 3;

    private const int MaxBoundaryLength = 70; // RFC 2046

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="reading">stops the body's reads (and fires at the body time limit)</param>
    /// <param name="cancellation">the request's: stops a wait for a place to decode an image</param>
    /// <exception cref="RequestException">not a multipart form (415), a malformed or oversized part (400, 413), an image that
    /// cannot be used (400), each naming the part</exception>
    public static async Task<(IReadOnlyDictionary<string, string> Fields, IReadOnlyList<ReferenceImage> Images)> ReadAsync(
        HttpRequest request, ReferenceUploads uploads, CancellationToken reading, CancellationToken cancellation)
    {
        var reader = new MultipartReader(Boundary(request.ContentType), request.Body) { HeadersCountLimit = 16, HeadersLengthLimit = 16 << 10 };
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var images = new List<ReferenceImage>();
        for (int part = 1; ; part++)
        {
            var section = await NextSectionAsync(reader, part, reading);
            if (section == null) return (fields, images);
            if (part > MaxParts) throw new RequestException(400, $"part {part}", $"part {part}: the form has more than {MaxParts} parts");
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
                || HeaderUtilities.RemoveQuotes(disposition.Name).Length == 0)
                throw new RequestException(400, $"part {part}", $"part {part}: expected a 'Content-Disposition: form-data; name=\"...\"' header");
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).ToString();
            if (name is "image" or "image[]")
            {
                var param = $"image[{images.Count}]";
                if (images.Count == uploads.MaxImages) throw RequestException.BadField(param, $"more than {uploads.MaxImages} reference images");
                var bytes = await ReadBodyAsync(section.Body, uploads.Limits.MaxFileBytes, param, reading);
                var fileName = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileName).ToString());
                // The name goes into the images' metadata, as the CLI's reference file names do.
                if (XmpPacket.IndexOfUnstorable(fileName) is int bad and >= 0)
                    throw RequestException.BadField(param, $"the file name holds U+{(int)fileName[bad]:X4}, which image metadata cannot store");
                images.Add(await uploads.DecodeAsync(bytes, param, fileName.Length > 0 ? fileName : param,
                    fileName.Length > 0 ? $"{param} ('{fileName}')" : param, cancellation));
            }
            else if (name == "mask")
                throw RequestException.BadField(name, "inpainting masks are not supported: FLUX.2 edits from the prompt and the reference images");
            else
            {
                if (fields.ContainsKey(name)) throw RequestException.BadField(name, "given twice");
                var bytes = await ReadBodyAsync(section.Body, MaxFieldBytes, name, reading);
                try
                {
                    fields[name] = StrictUtf8.GetString(bytes);
                }
                catch (DecoderFallbackException)
                {
                    throw RequestException.BadField(name, "not valid UTF-8 text");
                }
            }
        }
    }

    private static string Boundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new RequestException(415, "Content-Type", $"Content-Type: expected multipart/form-data (file uploads), got '{contentType}'");
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary);
        if (boundary.Length is 0 or > MaxBoundaryLength)
            throw new RequestException(400, "Content-Type", $"Content-Type: the multipart boundary is missing or longer than {MaxBoundaryLength} characters");
        return boundary.ToString();
    }

    private static async Task<MultipartSection?> NextSectionAsync(MultipartReader reader, int part, CancellationToken cancellation)
    {
        try
        {
            return await reader.ReadNextSectionAsync(cancellation);
        }
        catch (IOException e) when (e is not BadHttpRequestException && e.InnerException != null)
        {
            throw RequestHandling.UnreadableBody(e);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // The reader's word for a body that ends before the boundary it looks for.
            throw new RequestException(400, $"part {part}", part == 1
                ? "the multipart body holds no part: no boundary line as Content-Type declares"
                : $"part {part}: the multipart body ends before its closing boundary");
        }
        catch (InvalidDataException e)
        {
            throw new RequestException(400, $"part {part}", $"part {part}: malformed headers ({e.Message})");
        }
    }

    /// <summary>The part's body, refused once it passes <paramref name="limit"/> bytes (before reading the rest).</summary>
    private static async Task<byte[]> ReadBodyAsync(Stream body, long limit, string param, CancellationToken cancellation)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await body.ReadAsync(chunk, cancellation)) > 0)
            {
                if (buffer.Length + read > limit)
                    throw new RequestException(413, param, $"{param}: the part is larger than the {limit}-byte limit");
                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException e) when (e is not BadHttpRequestException && e.InnerException != null)
        {
            throw RequestHandling.UnreadableBody(e);
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            throw new RequestException(400, param, $"{param}: the multipart body ends inside this part, before its closing boundary");
        }
        catch (InvalidDataException e)
        {
            // The reader's word for a boundary followed by more than a line's worth of other bytes.
            throw new RequestException(400, param, $"{param}: malformed boundary line after this part ({e.Message})");
        }
        return buffer.ToArray();
    }
}
