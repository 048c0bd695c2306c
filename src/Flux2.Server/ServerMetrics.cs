using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flux2.Core.Backend;

namespace Flux2.Server;

/// <summary>
/// What the server counts, as <see cref="System.Diagnostics.Metrics"/> instruments of one <see cref="Meter"/> per server
/// (so <c>dotnet-counters</c> or an OpenTelemetry exporter can read them too); <see cref="PrometheusExporter"/> serves them on
/// <c>/metrics</c>. Instruments carry their Prometheus names. Steps per second is
/// <c>rate(flux2_denoising_steps_total) / rate(flux2_denoising_seconds_total)</c>.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    /// <summary>Upper bounds of the generation-time buckets: a tiny test model takes milliseconds, a CPU image minutes to hours.</summary>
    private static readonly double[] GenerationBuckets = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600, 7200];

    private readonly Counter<long> _requests;
    private readonly UpDownCounter<long> _inFlight;
    private readonly UpDownCounter<long> _queued;
    private readonly UpDownCounter<long> _generating;
    private readonly Histogram<double> _generationSeconds;
    private readonly Counter<long> _steps;
    private readonly Counter<double> _stepSeconds;

    public Meter Meter { get; } = new("Flux2.Server");

    public ServerMetrics()
    {
        _requests = Meter.CreateCounter<long>("flux2_requests_total", description: "HTTP requests answered, by endpoint and status (499: the client went away)");
        _inFlight = Meter.CreateUpDownCounter<long>("flux2_requests_in_flight", description: "HTTP requests being handled, waiting ones included");
        _queued = Meter.CreateUpDownCounter<long>("flux2_queue_depth", description: "Requests waiting for the generator");
        _generating = Meter.CreateUpDownCounter<long>("flux2_generations_running", description: "Generations running (0 or 1)");
        _generationSeconds = Meter.CreateHistogram<double>("flux2_generation_seconds", unit: "s",
            description: "Time of a completed generation, all its images, from leaving the queue",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenerationBuckets });
        _steps = Meter.CreateCounter<long>("flux2_denoising_steps_total", description: "Denoising steps run, of every image");
        _stepSeconds = Meter.CreateCounter<double>("flux2_denoising_seconds_total", unit: "s", description: "Time spent in those denoising steps");
        Meter.CreateObservableGauge("process_resident_memory_bytes", ResidentBytes, unit: "By", description: "Resident memory of the server process (RSS)");
    }

    /// <summary>Adds <c>flux2_device_memory_bytes{kind}</c> for a GPU backend: in use by the models and activations, cached by
    /// its allocator, the peak held, and the device's free and total memory.</summary>
    public void ObserveDeviceMemory(IDeviceMemoryReport report) =>
        Meter.CreateObservableGauge("flux2_device_memory_bytes", () =>
        {
            var m = report.Memory;
            return new[] { ("in_use", m.InUse), ("cached", m.Cached), ("peak", m.Peak), ("free", m.DeviceFree), ("total", m.DeviceTotal) }
                .Select(p => new Measurement<long>(p.Item2, new KeyValuePair<string, object?>("kind", p.Item1)));
        }, unit: "By", description: "Device memory of the GPU backend: in use, cached for reuse, peak held; the device's free and total");

    /// <summary>Adds <c>flux2_image_decodes{state}</c>: reference images being decoded, and waiting for a place to be.</summary>
    public void ObserveDecodes(DecodeGate gate) =>
        Meter.CreateObservableGauge("flux2_image_decodes", () => new[]
        {
            new Measurement<long>(gate.Running, new KeyValuePair<string, object?>("state", "running")),
            new Measurement<long>(gate.Waiting, new KeyValuePair<string, object?>("state", "waiting")),
        }, description: $"Reference images being decoded (at most {gate.Capacity} at once) and waiting to be");

    public void RequestStarted() => _inFlight.Add(1);

    public void RequestFinished(string endpoint, int status)
    {
        _inFlight.Add(-1);
        _requests.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("status", status));
    }

    public void QueueChanged(int delta) => _queued.Add(delta);

    public void GenerationStarted() => _generating.Add(1);

    /// <param name="completed">how long it took, once for every request it completed (a cancelled or failed one is not timed)</param>
    public void GenerationEnded(IReadOnlyList<TimeSpan> completed)
    {
        _generating.Add(-1);
        foreach (var time in completed) _generationSeconds.Record(time.TotalSeconds);
    }

    public void StepDone(TimeSpan took)
    {
        _steps.Add(1);
        _stepSeconds.Add(took.TotalSeconds);
    }

    private static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64; // on Linux: resident pages, from /proc/self/stat
    }

    public void Dispose() => Meter.Dispose();
}
