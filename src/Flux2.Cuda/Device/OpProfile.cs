using Flux2.Cuda.Native;

namespace Flux2.Cuda.Device;

/// <summary>
/// Events recorded on the stream around every op while a profile runs, summed per op name when it stops. The events are
/// created once and reused; past <see cref="FoldAfter"/> pending ops the stream is waited for and their times folded into
/// the totals, so a long profile holds a bounded number of events. Called by the backend's ops, with the device's context
/// current.
/// </summary>
internal sealed class OpProfile(CudaDevice device) : IDisposable
{
    private const int FoldAfter = 4096;

    private readonly List<nint> _events = [];
    private readonly List<string> _pending = [];
    private readonly Dictionary<string, (int Calls, double Milliseconds)> _totals = new(StringComparer.Ordinal);

    /// <summary>Records the event before an op. An op that fails before <see cref="End"/> leaves no entry: the next op
    /// records its own start over this one.</summary>
    public void Begin()
    {
        if (_pending.Count == FoldAfter) Fold();
        Record(2 * _pending.Count);
    }

    /// <summary>Records the event after op <paramref name="name"/>, which <see cref="Begin"/> started.</summary>
    public void End(string name)
    {
        Record(2 * _pending.Count + 1);
        _pending.Add(name);
    }

    /// <summary>Waits for the profiled ops and returns their times per name, the longest first; the profile starts over.</summary>
    public IReadOnlyList<GpuOpTime> Stop()
    {
        Fold();
        var times = _totals.Select(t => new GpuOpTime(t.Key, t.Value.Calls, t.Value.Milliseconds)).OrderByDescending(t => t.Milliseconds).ToList();
        _totals.Clear();
        return times;
    }

    private void Record(int index)
    {
        if (index == _events.Count)
        {
            CudaDriver.Check(CudaDriver.cuEventCreate(out nint created, 0), nameof(CudaDriver.cuEventCreate));
            _events.Add(created);
        }
        CudaDriver.Check(CudaDriver.cuEventRecord(_events[index], device.Stream), nameof(CudaDriver.cuEventRecord));
    }

    private void Fold()
    {
        if (_pending.Count == 0) return;
        CudaDriver.Check(CudaDriver.cuEventSynchronize(_events[2 * _pending.Count - 1]), nameof(CudaDriver.cuEventSynchronize));
        for (int i = 0; i < _pending.Count; i++)
        {
            CudaDriver.Check(CudaDriver.cuEventElapsedTime(out float milliseconds, _events[2 * i], _events[2 * i + 1]), nameof(CudaDriver.cuEventElapsedTime));
            var (calls, total) = _totals.GetValueOrDefault(_pending[i]);
            _totals[_pending[i]] = (calls + 1, total + milliseconds);
        }
        _pending.Clear();
    }

    public void Dispose()
    {
        foreach (var e in _events) CudaDriver.cuEventDestroy_v2(e);
        _events.Clear();
    }
}
