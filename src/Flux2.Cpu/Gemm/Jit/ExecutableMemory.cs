using System.Runtime.InteropServices;

namespace Flux2.Cpu.Gemm.Jit;

/// <summary>
/// A page of machine code: mapped writable, filled, then switched to read + execute (never both at once), through the
/// C library's mmap/mprotect. Lives for the process (kernels are emitted once at start-up). Null where the OS refuses
/// executable memory, so callers fall back to the managed kernels.
/// </summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 2, MapAnonymous = 0x20;
    private static readonly nint MapFailed = -1;

    /// <summary>The address of <paramref name="code"/> made executable, or 0 when the OS does not allow it.</summary>
    public static nint Create(ReadOnlySpan<byte> code)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        nuint size = (nuint)((code.Length + 4095) & ~4095);
        nint page;
        try
        {
            page = Mmap(0, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
        if (page == MapFailed || page == 0) return 0;
        code.CopyTo(new Span<byte>((void*)page, code.Length));
        if (Mprotect(page, size, ProtRead | ProtExec) != 0)
        {
            Munmap(page, size);
            return 0;
        }
        return page;
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
