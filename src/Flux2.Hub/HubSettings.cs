using System.Text;
using Flux2.Core.Files;

namespace Flux2.Hub;

/// <summary>
/// Where the Hub and its cache are and how to reach them, from the environment variables the Python tools read
/// (huggingface_hub <c>constants.py</c>), so that both share one cache and one login.
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>HF_ENDPOINT, default https://huggingface.co.</summary>
    public Uri Endpoint { get; init; } = new(DefaultEndpoint);

    /// <summary>HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>HF_TOKEN, else the token file <c>hf auth login</c> writes; null for anonymous access.</summary>
    public string? Token { get; init; }

    /// <summary>Where <see cref="Token"/> came from, for messages ("HF_TOKEN", or the token file's path).</summary>
    public string? TokenSource { get; init; }

    /// <summary>HF_HUB_OFFLINE: use only the cache, never the network.</summary>
    public bool Offline { get; init; }

    /// <summary>How long a response may send nothing before the transfer is given up (resumable).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Values Python's huggingface_hub counts as true in an environment variable.</summary>
    private static readonly string[] TrueValues = ["1", "ON", "YES", "TRUE"];

    /// <summary>The settings the environment describes; <paramref name="variable"/> reads a variable (default: this process's).</summary>
    /// <exception cref="HubException">HF_ENDPOINT is not an http(s) URL, or the token file cannot be read</exception>
    public static HubSettings FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => variable(name) is { Length: > 0 } value ? value : null;

        var home = Expand(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(UserHome(), ".cache"), "huggingface"));
        var cache = Expand(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub"));
        var endpointText = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/');
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http"))
            throw new HubException($"HF_ENDPOINT '{endpointText}' is not an http(s) URL");

        string? token = null, source = null;
        foreach (var name in (string[])["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"])
        {
            if (Get(name) is not { } value || value.Trim().Length == 0) continue;
            (token, source) = (value.Trim(), name);
            break;
        }
        if (token == null)
        {
            var tokenFile = Expand(Get("HF_TOKEN_PATH") ?? Path.Combine(home, "token"));
            if (File.Exists(tokenFile))
            {
                var text = Encoding.UTF8.GetString(RegularFile.ReadAllBytes(tokenFile, 64 * 1024,
                    problem => new HubException($"the Hugging Face token file {tokenFile} {problem}"))).Trim();
                if (text.Length > 0) (token, source) = (text, tokenFile);
            }
        }
        bool offline = new[] { Get("HF_HUB_OFFLINE"), Get("TRANSFORMERS_OFFLINE") }
            .Any(v => v != null && TrueValues.Contains(v.Trim().ToUpperInvariant()));
        return new HubSettings { Endpoint = endpoint, CacheDirectory = cache, Token = token, TokenSource = source, Offline = offline };
    }

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>"~" and "~/..." as the shell (and Python's expanduser) read them.</summary>
    private static string Expand(string path) =>
        path == "~" ? UserHome()
        : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(UserHome(), path[2..])
        : path;
}
