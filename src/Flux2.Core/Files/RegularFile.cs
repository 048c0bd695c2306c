using System.Runtime.InteropServices;

namespace Flux2.Core.Files;

/// <summary>
/// The one way every reader opens a file it was pointed at (weights, configs, tokenizers, images, indexes): only a regular
/// file, checked by name before it is opened, so a FIFO cannot block the reader and a device such as /dev/zero cannot
/// stream forever; and whole-file reads are capped. Problems go to the caller's <c>error</c>, which adds the path and
/// makes its own exception type ("is a FIFO (named pipe), not a regular file").
/// </summary>
public static unsafe class RegularFile
{
    /// <summary>Throws <paramref name="error"/>(problem) unless <paramref name="path"/> (symbolic links followed) is a regular file.</summary>
    public static void Require(string path, Func<string, Exception> error)
    {
        if (Directory.Exists(path)) throw error("is a directory, not a file");
        if (!File.Exists(path)) throw error("file not found");
        if (NonRegularKind(path) is { } kind) throw error($"is a {kind}, not a regular file");
    }

    /// <summary>The whole of <paramref name="path"/>, which must be a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, Func<string, Exception> error)
    {
        Require(path, error);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            long length = stream.Length;
            if (length > maxBytes) throw error($"is {length} bytes, more than the {maxBytes}-byte limit for this file");
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            if (stream.ReadByte() >= 0) throw error("grew while it was read");
            return bytes;
        }
        catch (EndOfStreamException) { throw error("shrank while it was read"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw error("cannot read: " + e.Message); }
    }

    /// <summary>What <paramref name="path"/> is when it is not a regular file; null for a regular file, or where the kind
    /// cannot be told (systems other than Linux, where only directories are recognised).</summary>
    private static string? NonRegularKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = stackalloc byte[StatxSize];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return null; // vanished or unreadable: opening it will say why
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a C library older than statx (glibc 2.28)
        }
        int type = *(ushort*)(buffer + StatxModeOffset) & 0xF000;
        return type switch
        {
            0x8000 => null,
            0x1000 => "FIFO (named pipe)",
            0x2000 => "character device",
            0x6000 => "block device",
            0xC000 => "socket",
            0x4000 => "directory",
            _ => "special file",
        };
    }

    // statx(2): its struct has the same layout on every Linux architecture (unlike stat's); stx_mode is the u16 at byte 28.
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}
