using System.Net;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>Where and how <see cref="ImageServer"/> listens and generates.</summary>
public sealed record ImageServerOptions
{
    /// <summary>The address to bind; loopback by default, since the server has no authentication.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The TCP port; 0 picks a free one (read it back from <see cref="ImageServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>The name clients give as <c>model</c>; default: the model folder's name.</summary>
    public string? ModelName { get; init; }

    /// <summary>Caching acceleration applied to every generation (spec §10); null runs the full model at every step.</summary>
    public CacheOptions? Cache { get; init; }

    /// <summary>Requests allowed to wait while another one generates; more are refused with 503.</summary>
    public int MaxWaitingRequests { get; init; } = 16;

    /// <summary>Largest request body (reference images are base64 inside it).</summary>
    public long MaxRequestBytes { get; init; } = 64L << 20;

    /// <summary>What one reference image may cost before it is decoded (declared pixels, bytes).</summary>
    public ImageDecodeLimits ImageLimits { get; init; } = ImageDecodeLimits.Default;

    /// <summary>Most reference images in one request.</summary>
    public int MaxReferenceImages { get; init; } = 10;

    /// <summary>Where request, warning and cancellation lines go.</summary>
    public TextWriter Log { get; init; } = Console.Error;
}
