using System.Net;
using Flux2.Pipelines;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>Where and how <see cref="ImageServer"/> listens and generates.</summary>
public sealed record ImageServerOptions
{
    /// <summary>The address to bind; loopback by default. Any other address needs <see cref="ApiKey"/> (or
    /// <see cref="AllowNoAuthBeyondLoopback"/>), see <see cref="Check"/>.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The TCP port; 0 picks a free one (read it back from <see cref="ImageServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The name clients give as <c>model</c>; default: the model folder's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>The LoRAs requests may name (<c>loras</c>); null: requests name none.</summary>
    public LoraFolder? LoraFolder { get; init; }

    /// <summary>Caching acceleration applied to every generation (spec §10); null runs the full model at every step.</summary>
    public CacheOptions? Cache { get; init; }

    /// <summary>Requests allowed to wait while another one generates; more are refused with 503.</summary>
    public int MaxWaitingRequests { get; init; } = 16;

    /// <summary>The working memory a generation may need besides the weights (<see cref="Flux2Pipeline.EstimateWorkingBytes"/>);
    /// a request needing more (a size too large for this machine) is refused before it queues. Null: the machine's memory,
    /// as the runtime sees it (the limit <c>flux2 generate</c> applies).</summary>
    public long? WorkingMemoryBytes { get; init; }

    /// <summary>Open connections at most; one beyond them is closed as soon as it is accepted, so that a flood of idle
    /// connections cannot use up the process's file descriptors.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Largest request body (reference images are base64 inside it, or multipart parts).</summary>
    public long MaxRequestBytes { get; init; } = 64L << 20;

    /// <summary>What one reference image may cost before it is decoded (declared pixels, bytes).</summary>
    public ImageDecodeLimits ImageLimits { get; init; } = ImageDecodeLimits.Default;

    /// <summary>Most reference images in one request.</summary>
    public int MaxReferenceImages { get; init; } = 10;

    /// <summary>Reference images decoded at once, at most (the others wait their turn): a decode holds the upload's full-size
    /// bitmap, up to ~470 MB for 8192² pixels, until it is brought to the pipeline's size.</summary>
    public int ConcurrentImageDecodes { get; init; } = 2;

    /// <summary>The key clients must send as <c>Authorization: Bearer KEY</c> on every endpoint but <c>/health</c>; null: none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Serve without <see cref="ApiKey"/> on an address other than loopback (trusted networks only).</summary>
    public bool AllowNoAuthBeyondLoopback { get; init; }

    /// <summary>The longest a generating request may take from its arrival, waiting in the queue included; then it is
    /// cancelled and answered 504.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>The longest a request's body may take to arrive, from the request's arrival; then it is answered 408. Each
    /// request being read holds one of the few open places (<see cref="MaxWaitingRequests"/> + the batch), so a client
    /// trickling a body in must not hold one for the whole <see cref="RequestTimeout"/>.</summary>
    public TimeSpan BodyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Browser origins (<c>scheme://host[:port]</c>) allowed to call the server cross-origin (CORS); empty: none.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Where request, warning and cancellation lines go.</summary>
    public TextWriter Log { get; init; } = Console.Error;

    /// <summary>Refuses options the server must not start with: no API key beyond loopback (unless allowed), an empty key,
    /// a CORS origin that is not one, a time limit or a count that is not positive. Cheap: callers check before loading a model.</summary>
    /// <exception cref="ServerStartException">naming the option at fault</exception>
    public void Check()
    {
        if (ApiKey is { } key && string.IsNullOrWhiteSpace(key))
            throw new ServerStartException("the API key must not be empty");
        if (ApiKey == null && !AllowNoAuthBeyondLoopback && !IPAddress.IsLoopback(Address))
            throw new ServerStartException($"listening on {Address} (not loopback) needs an API key (--api-key or FLUX2_API_KEY), " +
                "or --insecure-no-auth to serve without one on a trusted network");
        if (MaxConnections < 1)
            throw new ServerStartException($"the connection limit must be at least 1, got {MaxConnections}");
        if (ConcurrentImageDecodes < 1)
            throw new ServerStartException($"the number of image decodes at once must be at least 1, got {ConcurrentImageDecodes}");
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ServerStartException($"the request time limit must be positive, got {RequestTimeout}");
        if (BodyTimeout <= TimeSpan.Zero)
            throw new ServerStartException($"the body time limit must be positive, got {BodyTimeout}");
        foreach (var origin in CorsOrigins)
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.GetLeftPart(UriPartial.Authority) != origin)
                throw new ServerStartException($"CORS origin '{origin}' is not an origin: expected scheme://host[:port] with http or https and nothing after, e.g. https://app.example.com");
    }
}
