using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary>A tiny klein model folder served in-process on 127.0.0.1 with a free port, for one test class;
/// the log is captured so tests can see what the server did.</summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private readonly bool _distilled;
    private readonly TempDirectory _dir = new();
    private Flux2Pipeline? _pipeline;
    private ImageServer? _server;

    public ServerLog Log { get; } = new();
    public string Folder { get; }
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public ImageServer Server => _server ?? throw new InvalidOperationException("the server has not started");

    protected ServerFixture(bool distilled)
    {
        _distilled = distilled;
        Folder = _dir.File("FLUX.2-klein-tiny");
    }

    public async Task InitializeAsync()
    {
        TinyModelFolders.Klein(Folder, _distilled);
        _pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = Folder }, TestBackends.Factory(TestBackends.Cpu));
        _server = await ImageServer.StartAsync(_pipeline, new ImageServerOptions { Port = 0, Log = Log });
        Client.BaseAddress = _server.BaseAddress;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_server != null) await _server.DisposeAsync();
        _pipeline?.Dispose();
        _dir.Dispose();
    }
}

public sealed class DistilledServer() : ServerFixture(distilled: true);

public sealed class BaseServer() : ServerFixture(distilled: false);
