using System.Runtime.InteropServices;

namespace Flux2.Core;

/// <summary>
/// Memory mapped straight from the kernel through the C library's mmap (Linux only; elsewhere, or where the C library
/// refuses, <see cref="Map"/> returns 0 and callers fall back). The pages arrive zeroed: large host tensors use them with
/// the huge-page advice, so they need no clearing pass and, where the kernel grants transparent huge pages, fault once
/// per 2 MiB instead of once per 4 KiB (the unaligned head and tail of a buffer keep small pages); the JIT'd
/// GEMM kernels use them to switch a page from writable to executable.
/// </summary>
public static unsafe partial class AnonymousPages
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20, MadvHugePage = 14;

    /// <summary>Zeroed, readable and writable, page-aligned memory of <paramref name="bytes"/>, or 0.</summary>
    public static nint Map(nuint bytes)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        nint address;
        try
        {
            address = Mmap(0, bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
        return address == -1 ? 0 : address;
    }

    /// <summary>Asks for transparent huge pages; advice only (without them the mapping keeps small pages).</summary>
    public static void AdviseHugePages(nint address, nuint bytes) => _ = Madvise(address, bytes, MadvHugePage);

    /// <summary>Makes mapped pages read + execute (no longer writable); false when the OS refuses.</summary>
    public static bool MakeExecutable(nint address, nuint bytes) => Mprotect(address, bytes, ProtRead | ProtExec) == 0;

    public static void Unmap(nint address, nuint bytes) => _ = Munmap(address, bytes);

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}
