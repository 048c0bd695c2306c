namespace Flux2.Server;

/// <summary>Decodes base64 <c>data:</c> URIs (RFC 2397), the only image source the server accepts: it fetches nothing.</summary>
public static class DataUri
{
    /// <param name="param">the JSON field holding the URI, for error messages</param>
    public static byte[] DecodeBase64(string uri, string param)
    {
        if (!uri.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            throw RequestException.BadField(param, "expected a base64 data: URI (data:image/png;base64,...); the server does not fetch URLs");
        int comma = uri.IndexOf(',');
        if (comma < 0) throw RequestException.BadField(param, "the data: URI has no ',' before its data");
        if (!uri.AsSpan(5, comma - 5).EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw RequestException.BadField(param, "the data: URI is not base64-encoded (expected ';base64,')");
        var data = uri.AsSpan(comma + 1);
        var bytes = new byte[data.Length / 4 * 3 + 3];
        if (data.IsEmpty || !Convert.TryFromBase64Chars(data, bytes, out int written))
            throw RequestException.BadField(param, "the data: URI does not hold valid base64 data");
        return bytes[..written];
    }
}
