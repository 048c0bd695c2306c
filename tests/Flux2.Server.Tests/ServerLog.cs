namespace Flux2.Server.Tests;

/// <summary>A thread-safe log writer whose lines tests can read and wait for.</summary>
public sealed class ServerLog : TextWriter
{
    private readonly List<string> _lines = [];
    private readonly System.Text.StringBuilder _partial = new();

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lines)
        {
            if (value == '\n')
            {
                _lines.Add(_partial.ToString().TrimEnd('\r'));
                _partial.Clear();
            }
            else _partial.Append(value);
        }
    }

    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToArray(); }
    }

    /// <summary>The first line (from <paramref name="from"/> on) containing <paramref name="text"/>, waiting up to <paramref name="timeout"/>.</summary>
    public async Task<string?> WaitForAsync(string text, TimeSpan timeout, int from = 0)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var hit = Lines.Skip(from).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (hit != null || clock.Elapsed > timeout) return hit;
            await Task.Delay(20);
        }
    }
}
