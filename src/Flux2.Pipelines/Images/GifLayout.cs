using System.Buffers.Binary;

namespace Flux2.Pipelines.Images;

/// <summary>Where a GIF's blocks are, up to its first image (the frame stb decodes): the logical screen and its colour
/// table, then extension blocks, each a label and sub-blocks up to an empty one.</summary>
internal static class GifLayout
{
    private const byte Extension = 0x21, ImageDescriptor = 0x2C;

    /// <summary>The offsets of the extension blocks before the first image, and the offset of the block after them (the
    /// image descriptor in a well-formed file; the file's length or past it in a truncated one).</summary>
    public static (List<int> Extensions, long Next) BlocksBeforeFirstImage(ReadOnlySpan<byte> file)
    {
        var extensions = new List<int>();
        long at = 13 + (file.Length > 10 ? ColourTableBytes(file[10]) : 0);
        while (at < file.Length && file[(int)at] == Extension)
        {
            extensions.Add((int)at);
            at += 2;
            while (at < file.Length && file[(int)at] != 0) at += 1 + file[(int)at];
            at++;
        }
        return (extensions, at);
    }

    /// <summary>The first image's size and where its data starts (the LZW minimum code size byte, after the descriptor and
    /// its colour table); null when no image descriptor follows the blocks before it.</summary>
    public static (int Width, int Height, long Data)? FirstImage(ReadOnlySpan<byte> file)
    {
        long at = BlocksBeforeFirstImage(file).Next;
        if (at + 10 > file.Length || file[(int)at] != ImageDescriptor) return null;
        var descriptor = file.Slice((int)at, 10);
        return (BinaryPrimitives.ReadUInt16LittleEndian(descriptor[5..]), BinaryPrimitives.ReadUInt16LittleEndian(descriptor[7..]),
            at + 10 + ColourTableBytes(descriptor[9]));
    }

    /// <summary>The size of the colour table a screen or image descriptor's flags announce.</summary>
    public static int ColourTableBytes(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;
}
