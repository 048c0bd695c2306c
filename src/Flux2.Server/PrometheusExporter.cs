using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Flux2.Server;

/// <summary>
/// Collects the measurements of one <see cref="Meter"/> through a <see cref="MeterListener"/> and writes them in the
/// Prometheus text exposition format (version 0.0.4). Counters become counters, up-down counters and observable gauges
/// gauges, histograms cumulative buckets (bounds from the instrument's advice) with sum and count. Series are kept per tag
/// set, so tags must take few values (endpoint names, status codes). An instrument nothing was measured on yet is written
/// as one zero series.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly object _lock = new();
    private readonly MeterListener _listener = new();
    private readonly List<Family> _families = [];

    private enum Kind { Counter, Gauge, Histogram }

    /// <summary>One instrument: its series by label text.</summary>
    private sealed class Family(Instrument instrument, Kind kind, bool adds, double[] buckets)
    {
        public Instrument Instrument { get; } = instrument;
        public Kind Kind { get; } = kind;

        /// <summary>Measurements are increments (counters); otherwise each replaces the value (observed gauges).</summary>
        public bool Adds { get; } = adds;

        public double[] Buckets { get; } = buckets;
        public SortedDictionary<string, Series> Series { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Series(int buckets)
    {
        public double Value;
        public long Count;
        public readonly long[] BucketCounts = new long[buckets];
    }

    public PrometheusExporter(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter != meter) return;
            var family = Describe(instrument);
            lock (_lock) _families.Add(family);
            listener.EnableMeasurementEvents(instrument, family);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, family) => Record((Family)family!, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, family) => Record((Family)family!, value, tags));
        _listener.Start();
    }

    private static Family Describe(Instrument instrument)
    {
        var type = instrument.GetType().GetGenericTypeDefinition();
        if (type == typeof(Counter<>)) return new Family(instrument, Kind.Counter, adds: true, []);
        if (type == typeof(UpDownCounter<>)) return new Family(instrument, Kind.Gauge, adds: true, []);
        if (type == typeof(ObservableGauge<>)) return new Family(instrument, Kind.Gauge, adds: false, []);
        if (instrument is Histogram<double> histogram)
            return new Family(instrument, Kind.Histogram, adds: true, [.. histogram.Advice?.HistogramBucketBoundaries ?? []]);
        throw new NotSupportedException($"metric {instrument.Name}: {instrument.GetType().Name} has no Prometheus form here");
    }

    private void Record(Family family, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        lock (_lock)
        {
            if (!family.Series.TryGetValue(labels, out var series)) family.Series[labels] = series = new Series(family.Buckets.Length);
            if (family.Kind == Kind.Histogram)
            {
                series.Value += value;
                series.Count++;
                for (int i = 0; i < family.Buckets.Length; i++)
                    if (value <= family.Buckets[i]) series.BucketCounts[i]++;
            }
            else if (family.Adds) series.Value += value;
            else series.Value = value;
        }
    }

    /// <summary>Tags as Prometheus labels, sorted by name, without braces: <c>endpoint="/v1/responses",status="200"</c>.</summary>
    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty) return "";
        var pairs = new List<string>(tags.Length);
        foreach (var (name, value) in tags)
            pairs.Add($"{name}=\"{Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")}\"");
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(',', pairs);
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    /// <summary>The current values of every instrument (observable ones are read now), as exposition text.</summary>
    public string Write()
    {
        lock (_lock)
        {
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var family in _families)
            {
                var name = family.Instrument.Name;
                text.Append("# HELP ").Append(name).Append(' ').Append(family.Instrument.Description?.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(family.Kind.ToString().ToLowerInvariant()).Append('\n');
                var series = family.Series.Count > 0 ? family.Series : new SortedDictionary<string, Series> { [""] = new Series(family.Buckets.Length) };
                foreach (var (labels, s) in series)
                {
                    if (family.Kind != Kind.Histogram)
                    {
                        Sample(text, name, labels, s.Value);
                        continue;
                    }
                    for (int i = 0; i < family.Buckets.Length; i++)
                        Sample(text, name + "_bucket", Join(labels, $"le=\"{Number(family.Buckets[i])}\""), s.BucketCounts[i]);
                    Sample(text, name + "_bucket", Join(labels, "le=\"+Inf\""), s.Count);
                    Sample(text, name + "_sum", labels, s.Value);
                    Sample(text, name + "_count", labels, s.Count);
                }
            }
            return text.ToString();
        }
    }

    private static string Join(string labels, string label) => labels.Length == 0 ? label : labels + "," + label;

    private static void Sample(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0) text.Append('{').Append(labels).Append('}');
        text.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();
}
