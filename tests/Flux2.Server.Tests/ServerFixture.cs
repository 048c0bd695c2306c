using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary>A tiny klein model folder served in-process on 127.0.0.1 with a free port, for one test class;
/// the log is captured so tests can see what the server did.</summary>
/// <param name="configure">changes the server's options (port 0 and the captured log are set before)</param>
/// <param name="pipelineOptions">how the pipeline runs (default: its defaults)</param>
/// <param name="kv">the distilled folder as klein 9B-KV's repository</param>
public abstract class ServerFixture(bool distilled, Func<ImageServerOptions, ImageServerOptions>? configure = null, PipelineOptions? pipelineOptions = null,
    bool kv = false)
    : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private Flux2Pipeline? _pipeline;
    private ImageServer? _server;

    public ServerLog Log { get; } = new();
    public string Folder => _dir.File("FLUX.2-klein-tiny");
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public ImageServer Server => _server ?? throw new InvalidOperationException("the server has not started");

    public async Task InitializeAsync()
    {
        if (kv) TinyModelFolders.KleinKv(Folder);
        else TinyModelFolders.Klein(Folder, distilled);
        _pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = Folder }, TestBackends.Factory(TestBackends.Cpu), pipelineOptions);
        var options = new ImageServerOptions { Port = 0, Log = Log };
        _server = await ImageServer.StartAsync(_pipeline, configure?.Invoke(options) ?? options);
        Client.BaseAddress = _server.BaseAddress;
    }

    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        if (_server != null) await _server.DisposeAsync();
        _pipeline?.Dispose();
        _dir.Dispose();
    }
}

public sealed class DistilledServer() : ServerFixture(distilled: true);

public sealed class BaseServer() : ServerFixture(distilled: false);

/// <summary>With an API key and one CORS origin.</summary>
public sealed class SecuredServer() : ServerFixture(distilled: true, o => o with { ApiKey = SecuredServer.Key, CorsOrigins = [SecuredServer.Origin] })
{
    public const string Key = "test-key-8d1f";
    public const string Origin = "https://app.example";
}

/// <summary>klein-base (any step count) with a three-second time limit per request.</summary>
public sealed class ImpatientServer() : ServerFixture(distilled: false, o => o with { RequestTimeout = TimeSpan.FromSeconds(3) });

/// <summary>The distilled model on a server that waits two seconds for a request's body.</summary>
public sealed class ImpatientReaderServer() : ServerFixture(distilled: true, o => o with { BodyTimeout = TimeSpan.FromSeconds(2) });

/// <summary>klein-kv with a step cache for every request, which it cannot run with reference images.</summary>
public sealed class KleinKvCacheServer() : ServerFixture(distilled: true, o => o with { Cache = new Pipelines.Caching.TaylorSeerOptions() }, kv: true);

/// <summary>klein-base with no room to wait: a request arriving while another generates is refused.</summary>
public sealed class NoQueueServer() : ServerFixture(distilled: false, o => o with { MaxWaitingRequests = 0 });

/// <summary>The distilled model on a server with 64 MiB of working memory for a generation.</summary>
public sealed class SmallMemoryServer() : ServerFixture(distilled: true, o => o with { WorkingMemoryBytes = 64L << 20 });

/// <summary>The distilled model accepting two connections at a time.</summary>
public sealed class TwoConnectionServer() : ServerFixture(distilled: true, o => o with { MaxConnections = 2 });

/// <summary>The distilled model, for tests that read the counters and so want no other class's requests on them.</summary>
public sealed class MetricsServer() : ServerFixture(distilled: true);

/// <summary>klein-base with room for 40 waiting requests, for the load test.</summary>
public sealed class LoadServer() : ServerFixture(distilled: false, o => o with { MaxWaitingRequests = LoadServer.Queue })
{
    public const int Queue = 40;
}

/// <summary>klein-base denoising up to two images together: waiting requests of the same shape share a batch.</summary>
public sealed class BatchingServer() : ServerFixture(distilled: false, pipelineOptions: new PipelineOptions { MaxBatch = 2 });
