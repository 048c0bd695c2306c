using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Flux2.Server;

/// <summary>
/// Requires <c>Authorization: Bearer KEY</c> on every request but <c>GET /health</c> (for load balancers and probes) and CORS
/// preflights (answered before this runs); otherwise 401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750). Keys are compared
/// as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, so the time taken tells nothing about the
/// key, its length included.
/// </summary>
public sealed class ApiKeyAuthentication(string apiKey)
{
    private const string Challenge = "Bearer realm=\"flux2\"";

    private readonly byte[] _keyDigest = SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.Authorization;
        if (context.Request.Path == "/health" || (header.Count == 1 && Accepts(header[0]!)))
        {
            await next(context);
            return;
        }
        bool given = header.Count > 0;
        context.Response.Headers.WWWAuthenticate = given ? Challenge + ", error=\"invalid_token\"" : Challenge;
        var message = given
            ? "Authorization: the API key is not valid"
            : "Authorization: missing; send the server's API key as 'Authorization: Bearer KEY'";
        await RequestHandling.WriteJsonAsync(context.Response, StatusCodes.Status401Unauthorized,
            ResponsesJson.Error(message, "Authorization", StatusCodes.Status401Unauthorized), CancellationToken.None);
    }

    private bool Accepts(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(digest, _keyDigest);
    }
}
