using System.Globalization;
using System.Text.RegularExpressions;

namespace Flux2.Server.Tests;

/// <summary>A strict reader of the Prometheus text exposition format (0.0.4), independent of the server's writer: every
/// line a comment (HELP, TYPE) or a sample of a family whose TYPE came first; histogram buckets cumulative and ending in
/// +Inf equal to _count.</summary>
public static partial class PrometheusText
{
    /// <summary>Sample values by series: the metric name followed by its labels as written, e.g.
    /// <c>flux2_requests_total{endpoint="/v1/responses",status="200"}</c>.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var types = new Dictionary<string, string>();
        var samples = new Dictionary<string, double>();
        Assert.EndsWith("\n", text);
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            var type = TypeLine().Match(line);
            if (type.Success)
            {
                Assert.True(types.TryAdd(type.Groups[1].Value, type.Groups[2].Value), $"TYPE twice: {line}");
                continue;
            }
            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: '{line}'");
            var name = sample.Groups[1].Value;
            var family = types.Keys.FirstOrDefault(f => name == f || (types[f] == "histogram" && name is var n && (n == f + "_bucket" || n == f + "_sum" || n == f + "_count")));
            Assert.True(family != null, $"no TYPE before {name}");
            var value = sample.Groups[3].Value == "+Inf" ? double.PositiveInfinity : double.Parse(sample.Groups[3].Value, CultureInfo.InvariantCulture);
            Assert.True(samples.TryAdd(name + sample.Groups[2].Value, value), $"series twice: {line}");
        }
        foreach (var (family, _) in types.Where(t => t.Value == "histogram"))
        {
            var buckets = samples.Where(s => s.Key.StartsWith(family + "_bucket", StringComparison.Ordinal)).Select(s => s.Value).ToArray();
            Assert.True(buckets.Zip(buckets.Skip(1)).All(p => p.First <= p.Second), $"{family} buckets are not cumulative");
            Assert.Contains(samples, s => s.Key.StartsWith(family + "_bucket", StringComparison.Ordinal) && s.Key.Contains("le=\"+Inf\""));
        }
        return samples;
    }

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\]|\\.)*"",?)*\})? (\S+)$")]
    private static partial Regex SampleLine();
}
