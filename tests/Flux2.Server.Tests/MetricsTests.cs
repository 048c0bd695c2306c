using System.Net;
using Flux2.Core.Backend;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>GET /metrics: Prometheus text that parses, and counts what the server did.</summary>
public sealed class MetricsTests(MetricsServer server) : IClassFixture<MetricsServer>
{
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var response = await server.Client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private static double Value(Dictionary<string, double> samples, string series) => samples.GetValueOrDefault(series);

    [Fact]
    public async Task AGenerationIsCountedTimedAndItsStepsWithIt()
    {
        const string ok = "flux2_requests_total{endpoint=\"/v1/images/generations\",status=\"200\"}";
        const string refused = "flux2_requests_total{endpoint=\"/v1/images/generations\",status=\"400\"}";
        var before = await ScrapeAsync();

        var answer = await SendAsync(server.Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16", "n": 2, "seed": 1}"""));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        answer = await SendAsync(server.Client, Json("v1/images/generations", """{"prompt": "x", "size": "0x0"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var after = await ScrapeAsync();

        Assert.Equal(1, Value(after, ok) - Value(before, ok));
        Assert.Equal(1, Value(after, refused) - Value(before, refused));
        Assert.Equal(8, Value(after, "flux2_denoising_steps_total") - Value(before, "flux2_denoising_steps_total")); // 2 images × 4 steps
        Assert.True(Value(after, "flux2_denoising_seconds_total") > Value(before, "flux2_denoising_seconds_total"));
        Assert.Equal(1, Value(after, "flux2_generation_seconds_count") - Value(before, "flux2_generation_seconds_count"));
        Assert.Equal(1, Value(after, "flux2_generation_seconds_bucket{le=\"+Inf\"}") - Value(before, "flux2_generation_seconds_bucket{le=\"+Inf\"}"));
        Assert.True(Value(after, "flux2_generation_seconds_sum") > 0);
        Assert.Equal(0, Value(after, "flux2_queue_depth"));
        Assert.Equal(0, Value(after, "flux2_generations_running"));
        Assert.Equal(1, Value(after, "flux2_requests_in_flight")); // the scrape itself
        Assert.Equal(0, after["flux2_image_decodes{state=\"running\"}"]);
        Assert.InRange(Value(after, "process_resident_memory_bytes"), 1 << 20, 64L << 30);
    }

    [Fact]
    public async Task UnknownPathsShareOneSeries()
    {
        using (await server.Client.GetAsync("no/such/path/1")) { }
        using (await server.Client.GetAsync("no/such/path/2")) { }
        var samples = await ScrapeAsync();
        Assert.True(Value(samples, "flux2_requests_total{endpoint=\"other\",status=\"404\"}") >= 2);
        Assert.DoesNotContain(samples.Keys, k => k.Contains("no/such"));
    }

    [Fact]
    public void AGpuBackendsMemoryIsAGaugePerKind()
    {
        using var metrics = new ServerMetrics();
        var report = new FixedMemory { Memory = new DeviceMemoryUse(InUse: 1000, Cached: 24, Peak: 1500, DeviceFree: 7000, DeviceTotal: 9000) };
        metrics.ObserveDeviceMemory(report);
        using var exporter = new PrometheusExporter(metrics.Meter);
        var samples = PrometheusText.Parse(exporter.Write());
        Assert.Equal(1000, samples["flux2_device_memory_bytes{kind=\"in_use\"}"]);
        Assert.Equal(24, samples["flux2_device_memory_bytes{kind=\"cached\"}"]);
        Assert.Equal(1500, samples["flux2_device_memory_bytes{kind=\"peak\"}"]);
        Assert.Equal(7000, samples["flux2_device_memory_bytes{kind=\"free\"}"]);
        Assert.Equal(9000, samples["flux2_device_memory_bytes{kind=\"total\"}"]);
        // Read at each scrape.
        report.Memory = report.Memory with { InUse = 2000 };
        Assert.Equal(2000, PrometheusText.Parse(exporter.Write())["flux2_device_memory_bytes{kind=\"in_use\"}"]);
    }

    [Fact]
    public async Task ReferenceDecodesAreAGaugePerState()
    {
        using var metrics = new ServerMetrics();
        var gate = new DecodeGate(1);
        metrics.ObserveDecodes(gate);
        using var exporter = new PrometheusExporter(metrics.Meter);
        Assert.Equal(0, PrometheusText.Parse(exporter.Write())["flux2_image_decodes{state=\"running\"}"]);

        using var release = new ManualResetEventSlim();
        var holder = Task.Run(() => gate.RunAsync(() => release.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (gate.Running != 1 && DateTime.UtcNow < deadline) await Task.Delay(5);
        var waiter = gate.RunAsync(() => true, CancellationToken.None);
        var samples = PrometheusText.Parse(exporter.Write());
        Assert.Equal(1, samples["flux2_image_decodes{state=\"running\"}"]);
        Assert.Equal(1, samples["flux2_image_decodes{state=\"waiting\"}"]);
        release.Set();
        await Task.WhenAll(holder, waiter);
    }

    private sealed class FixedMemory : IDeviceMemoryReport
    {
        public DeviceMemoryUse Memory { get; set; }
    }
}
