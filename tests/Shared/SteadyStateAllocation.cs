namespace Flux2.Tests;

/// <summary>
/// Measures the managed bytes a warm operation allocates. With more pool threads than cores a thread may take its first
/// item of some kernel (and size its per-thread scratch, once) only in a later pass, and a runtime thread (finalizer,
/// tiered JIT) can add bytes that are not ours: the least of several passes is the steady state, while an allocation
/// made on every pass still shows in each of them.
/// </summary>
public static class SteadyStateAllocation
{
    /// <summary>Least bytes allocated by the calling thread over up to <paramref name="attempts"/> passes of a warm action.</summary>
    public static long OnCallingThread(Action action, int attempts = 10) =>
        Least(action, attempts, GC.GetAllocatedBytesForCurrentThread);

    /// <summary>Least bytes allocated by every thread of the process; callers must not run beside other tests.</summary>
    public static long OnAnyThread(Action action, int attempts = 10) =>
        Least(action, attempts, () => GC.GetTotalAllocatedBytes(precise: true));

    private static long Least(Action action, int attempts, Func<long> counter)
    {
        long least = long.MaxValue;
        for (int attempt = 0; attempt < attempts && least > 0; attempt++)
        {
            long before = counter();
            action();
            least = Math.Min(least, counter() - before);
        }
        return least;
    }
}
