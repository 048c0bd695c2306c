using System.Runtime.InteropServices;

namespace Flux2.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM while a command works: the first of either asks it to stop (<see cref="Token"/> fires: a
/// generation stops inside its current op, a server refuses new requests, cancels the one in flight and exits); a second SIGINT
/// ends the process at once, through the signal's default action.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _interrupts;

    /// <param name="also">stops the command too (tests)</param>
    public StopSignals(CancellationToken also)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(also);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnInterrupt);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
    }

    public CancellationToken Token => _stop.Token;

    private void OnInterrupt(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _interrupts) > 1) return; // not cancelled: the default action ends the process now
        context.Cancel = true;
        _stop.Cancel();
    }

    private void OnTerminate(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
