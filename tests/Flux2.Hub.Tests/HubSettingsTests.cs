using Flux2.Tests;

namespace Flux2.Hub.Tests;

/// <summary>The environment variables huggingface_hub reads, read the same way (given as a dictionary, not set on the process).</summary>
public class HubSettingsTests
{
    private static HubSettings From(params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        return HubSettings.FromEnvironment(name => env.GetValueOrDefault(name));
    }

    private static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    [Fact]
    public void TheCacheIsHfHubCacheElseHfHomeHubElseTheUserCache()
    {
        Assert.Equal(Path.Combine(Home, ".cache", "huggingface", "hub"), From().CacheDirectory);
        Assert.Equal(Path.Combine("/xdg", "huggingface", "hub"), From(("XDG_CACHE_HOME", "/xdg")).CacheDirectory);
        Assert.Equal(Path.Combine("/hf", "hub"), From(("HF_HOME", "/hf"), ("XDG_CACHE_HOME", "/xdg")).CacheDirectory);
        Assert.Equal("/legacy", From(("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/legacy")).CacheDirectory);
        Assert.Equal("/cache", From(("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HUB_CACHE", "/cache")).CacheDirectory);
        Assert.Equal(Path.Combine(Home, "models"), From(("HF_HUB_CACHE", "~/models")).CacheDirectory);
    }

    [Fact]
    public void TheEndpointIsHfEndpointWithoutItsTrailingSlash()
    {
        Assert.Equal(new Uri("https://huggingface.co"), From().Endpoint);
        Assert.Equal("https://hf-mirror.example/hub", From(("HF_ENDPOINT", "https://hf-mirror.example/hub/")).Endpoint.AbsoluteUri.TrimEnd('/'));
        var e = Assert.Throws<HubException>(() => From(("HF_ENDPOINT", "ftp://x")));
        Assert.Contains("HF_ENDPOINT 'ftp://x' is not an http(s) URL", e.Message);
    }

    [Fact]
    public void TheTokenIsHfTokenElseTheTokenFileTheLoginWrote()
    {
        using var dir = new TempDirectory();
        Assert.Null(From(("HF_HOME", dir.Path)).Token);
        dir.WriteText("token", "hf_from_file\n");
        var fromFile = From(("HF_HOME", dir.Path));
        Assert.Equal("hf_from_file", fromFile.Token);
        Assert.Equal(dir.File("token"), fromFile.TokenSource);

        var fromVariable = From(("HF_HOME", dir.Path), ("HF_TOKEN", " hf_from_env "));
        Assert.Equal(("hf_from_env", "HF_TOKEN"), (fromVariable.Token, fromVariable.TokenSource));
        Assert.Equal("hf_legacy", From(("HF_HOME", dir.Path), ("HUGGING_FACE_HUB_TOKEN", "hf_legacy")).Token);

        dir.WriteText("elsewhere/tok", "hf_elsewhere");
        Assert.Equal("hf_elsewhere", From(("HF_HOME", dir.Path), ("HF_TOKEN_PATH", dir.File("elsewhere/tok"))).Token);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("no", false)]
    [InlineData("", false)]
    public void OfflineIsHfHubOfflineAsPythonReadsIt(string value, bool offline)
    {
        Assert.Equal(offline, From(("HF_HUB_OFFLINE", value)).Offline);
        Assert.Equal(offline, From(("TRANSFORMERS_OFFLINE", value)).Offline);
    }
}
