using Flux2.Core;

namespace Flux2.Cpu.Gemm.Jit;

/// <summary>
/// A page of machine code: mapped writable, filled, then switched to read + execute (never both at once). Lives for the
/// process (kernels are emitted once at start-up). Null where the OS does not allow executable memory, so callers fall
/// back to the managed kernels.
/// </summary>
internal static unsafe class ExecutableMemory
{
    /// <summary>The address of <paramref name="code"/> made executable, or 0 when the OS does not allow it.</summary>
    public static nint Create(ReadOnlySpan<byte> code)
    {
        nuint size = (nuint)((code.Length + 4095) & ~4095);
        nint page = AnonymousPages.Map(size);
        if (page == 0) return 0;
        code.CopyTo(new Span<byte>((void*)page, code.Length));
        if (AnonymousPages.MakeExecutable(page, size)) return page;
        AnonymousPages.Unmap(page, size);
        return 0;
    }
}
